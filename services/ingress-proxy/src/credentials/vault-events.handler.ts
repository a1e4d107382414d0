import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topics } from '@airlock/contracts';
import { consumeEvent } from '@airlock/messaging';
import { LeaseClient } from './lease.client';

@Controller()
export class VaultEventsHandler {
  private readonly logger = new Logger(VaultEventsHandler.name);

  constructor(private readonly leases: LeaseClient) {}

  @EventPattern(Topics.VaultRotated)
  rotated(@Payload() payload: unknown): Promise<void> {
    return consumeEvent(Topics.VaultRotated, payload, this.logger, (e) =>
      this.leases.rotated(e.connection, e.secretVersion),
    );
  }
}
