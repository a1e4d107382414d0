import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topics } from '@airlock/contracts';
import { consumeEvent } from '@airlock/messaging';

/** Approval decisions reach the recorder too; they are checked here and stored with the approval workflow. */
@Controller()
export class ApprovalEventsHandler {
  private readonly logger = new Logger(ApprovalEventsHandler.name);

  @EventPattern(Topics.ApprovalDecided)
  decided(@Payload() payload: unknown): Promise<void> {
    return consumeEvent(Topics.ApprovalDecided, payload, this.logger, (e) => {
      this.logger.log({ approvalId: e.approvalId, state: e.state }, 'approval decided');
    });
  }
}
