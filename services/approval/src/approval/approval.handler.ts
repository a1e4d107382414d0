import { Controller, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, RpcException, type KafkaContext } from '@nestjs/microservices';
import { Topics, type ApprovalReply } from '@airlock/contracts';
import { answerRequest } from '@airlock/messaging';

@Controller()
export class ApprovalHandler {
  private readonly logger = new Logger(ApprovalHandler.name);

  /** Requests are checked against the contract; the approval workflow itself is not enabled yet. */
  @MessagePattern(Topics.ApprovalRequest)
  request(@Payload() payload: unknown, @Ctx() ctx: KafkaContext): Promise<ApprovalReply> {
    return answerRequest(Topics.ApprovalRequest, payload, ctx, this.logger, () => {
      throw new RpcException({ status: 'error', message: 'the approval workflow is not enabled' });
    });
  }
}
