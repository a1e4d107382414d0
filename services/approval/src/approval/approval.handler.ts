import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, type KafkaContext } from '@nestjs/microservices';
import { Topics, type ApprovalReply } from '@airlock/contracts';
import { answerRequest, consumeEvent } from '@airlock/messaging';
import { ApprovalService } from './approval.service';

@Controller()
export class ApprovalHandler {
  private readonly logger = new Logger(ApprovalHandler.name);

  constructor(private readonly approvals: ApprovalService) {}

  /** Answered at once: pending (a person decides later, on airlock.approval.decided) or approved. */
  @MessagePattern(Topics.ApprovalRequest)
  request(@Payload() payload: unknown, @Ctx() ctx: KafkaContext): Promise<ApprovalReply> {
    return answerRequest(Topics.ApprovalRequest, payload, ctx, this.logger, (r) => this.approvals.request(r));
  }

  @EventPattern(Topics.ApprovalCancel)
  cancel(@Payload() payload: unknown): Promise<void> {
    return consumeEvent(Topics.ApprovalCancel, payload, this.logger, (e) => this.approvals.cancel(e));
  }
}
