import { Controller, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, type KafkaContext } from '@nestjs/microservices';
import { Topics, type VaultLeaseReply } from '@airlock/contracts';
import { answerRequest } from '@airlock/messaging';
import { LeaseService } from './lease.service';

@Controller()
export class LeaseHandler {
  private readonly logger = new Logger(LeaseHandler.name);

  constructor(private readonly leases: LeaseService) {}

  /** Requests and replies are checked against the contract; refusals answer with a safe message. */
  @MessagePattern(Topics.VaultLease)
  lease(@Payload() payload: unknown, @Ctx() ctx: KafkaContext): Promise<VaultLeaseReply> {
    return answerRequest(Topics.VaultLease, payload, ctx, this.logger, (request) => this.leases.issue(request));
  }
}
