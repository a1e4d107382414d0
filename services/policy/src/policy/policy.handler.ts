import { Controller, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, type KafkaContext } from '@nestjs/microservices';
import { Topics, type PolicyDecision } from '@airlock/contracts';
import { answerRequest } from '@airlock/messaging';
import { PolicyService } from './policy.service';

@Controller()
export class PolicyHandler {
  private readonly logger = new Logger(PolicyHandler.name);

  constructor(private readonly policy: PolicyService) {}

  @MessagePattern(Topics.PolicyEvaluate)
  evaluate(@Payload() payload: unknown, @Ctx() ctx: KafkaContext): Promise<PolicyDecision> {
    return answerRequest(Topics.PolicyEvaluate, payload, ctx, this.logger, (req) => this.policy.evaluate(req));
  }
}
