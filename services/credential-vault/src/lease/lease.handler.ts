import { Controller, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, RpcException, type KafkaContext } from '@nestjs/microservices';
import { Topics, type VaultLeaseReply } from '@airlock/contracts';
import { answerRequest } from '@airlock/messaging';

@Controller()
export class LeaseHandler {
  private readonly logger = new Logger(LeaseHandler.name);

  /** Requests are checked against the contract; no connection holds a credential yet, so none is leased. */
  @MessagePattern(Topics.VaultLease)
  lease(@Payload() payload: unknown, @Ctx() ctx: KafkaContext): Promise<VaultLeaseReply> {
    return answerRequest(Topics.VaultLease, payload, ctx, this.logger, (req) => {
      throw new RpcException({ status: 'error', message: `no credential is stored for connection ${req.connection}` });
    });
  }
}
