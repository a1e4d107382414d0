import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, type KafkaContext } from '@nestjs/microservices';
import { Topics, type PolicyDecision } from '@airlock/contracts';
import { answerRequest, type MessageSecurity } from '@airlock/messaging';
import { POLICY_CONFIG, type PolicyConfig } from '../config';
import { measuredDecision } from './policy-metrics';
import { PolicyService } from './policy.service';

@Controller()
export class PolicyHandler {
  private readonly logger = new Logger(PolicyHandler.name);
  /** Every decision is signed: the ingress acts on none without the policy service's signature. */
  private readonly security: MessageSecurity;

  constructor(
    private readonly policy: PolicyService,
    @Inject(POLICY_CONFIG) config: Pick<PolicyConfig, 'SIGNING_KEY_FILE'>,
  ) {
    this.security = { signer: config.SIGNING_KEY_FILE };
  }

  @MessagePattern(Topics.PolicyEvaluate)
  evaluate(@Payload() payload: unknown, @Ctx() ctx: KafkaContext): Promise<PolicyDecision> {
    return answerRequest(
      Topics.PolicyEvaluate,
      payload,
      ctx,
      this.logger,
      (req) => measuredDecision(() => this.policy.evaluate(req)),
      this.security,
    );
  }
}
