import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, type KafkaContext } from '@nestjs/microservices';
import { Topics, type ApprovalReply, type ApprovalStatusReply } from '@airlock/contracts';
import { answerRequest, consumeEvent, type MessageSecurity } from '@airlock/messaging';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';
import { ApprovalService } from './approval.service';
import { ApprovalStatusService } from './approval-status';

@Controller()
export class ApprovalHandler {
  private readonly logger = new Logger(ApprovalHandler.name);
  /** Every answer is signed: the ingress releases nothing on an unsigned one. */
  private readonly security: MessageSecurity;

  constructor(
    private readonly approvals: ApprovalService,
    private readonly statuses: ApprovalStatusService,
    @Inject(APPROVAL_CONFIG) config: Pick<ApprovalConfig, 'SIGNING_KEY_FILE'>,
  ) {
    this.security = { signer: config.SIGNING_KEY_FILE };
  }

  /** Answered at once: pending (a person decides later, on airlock.approval.decided) or approved. */
  @MessagePattern(Topics.ApprovalRequest)
  request(@Payload() payload: unknown, @Ctx() ctx: KafkaContext): Promise<ApprovalReply> {
    return answerRequest(
      Topics.ApprovalRequest,
      payload,
      ctx,
      this.logger,
      (r) => this.approvals.request(r),
      this.security,
    );
  }

  /** Where an approval stands, for the principal that requested it (an agent's approval_status call). */
  @MessagePattern(Topics.ApprovalStatus)
  status(@Payload() payload: unknown, @Ctx() ctx: KafkaContext): Promise<ApprovalStatusReply> {
    return answerRequest(
      Topics.ApprovalStatus,
      payload,
      ctx,
      this.logger,
      (r) => this.statuses.status(r),
      this.security,
    );
  }

  @EventPattern(Topics.ApprovalCancel)
  cancel(@Payload() payload: unknown): Promise<void> {
    return consumeEvent(Topics.ApprovalCancel, payload, this.logger, (e) => this.approvals.cancel(e));
  }
}
