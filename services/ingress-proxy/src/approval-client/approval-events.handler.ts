import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topics } from '@airlock/contracts';
import { consumeEvent } from '@airlock/messaging';
import { ApprovalClient } from './approval.client';

@Controller()
export class ApprovalEventsHandler {
  private readonly logger = new Logger(ApprovalEventsHandler.name);

  constructor(private readonly approvals: ApprovalClient) {}

  @EventPattern(Topics.ApprovalDecided)
  decided(@Payload() payload: unknown): Promise<void> {
    return consumeEvent(Topics.ApprovalDecided, payload, this.logger, (e) => this.approvals.decided(e));
  }
}
