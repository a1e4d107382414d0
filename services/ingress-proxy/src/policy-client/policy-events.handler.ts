import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topics } from '@airlock/contracts';
import { consumeEvent } from '@airlock/messaging';
import { PolicyClient } from './policy-client.service';

@Controller()
export class PolicyEventsHandler {
  private readonly logger = new Logger(PolicyEventsHandler.name);

  constructor(private readonly policy: PolicyClient) {}

  @EventPattern(Topics.PolicyChanged)
  changed(@Payload() payload: unknown): Promise<void> {
    return consumeEvent(Topics.PolicyChanged, payload, this.logger, (e) => this.policy.policyChanged(e.version));
  }
}
