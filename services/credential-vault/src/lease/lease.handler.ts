import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, type KafkaContext } from '@nestjs/microservices';
import { Topics, type VaultLeaseReply } from '@airlock/contracts';
import { answerRequest, messageRejectedEvent, type MessageSecurity } from '@airlock/messaging';
import { VAULT_CONFIG, type VaultConfig } from '../config';
import { AUDIT_SOURCE, VaultAudit } from '../publishing/vault-audit.service';
import { LeaseService } from './lease.service';

@Controller()
export class LeaseHandler {
  private readonly logger = new Logger(LeaseHandler.name);
  /**
   * A lease request must be signed by a trusted ingress key (so the vault seals only to sealing
   * keys an ingress it trusts vouched for); every reply is signed by the vault.
   */
  private readonly security: MessageSecurity;

  constructor(
    private readonly leases: LeaseService,
    private readonly audit: VaultAudit,
    @Inject(VAULT_CONFIG) config: Pick<VaultConfig, 'SIGNING_KEY_FILE' | 'TRUSTED_KEYS_FILE'>,
  ) {
    this.security = {
      signer: config.SIGNING_KEY_FILE,
      trust: config.TRUSTED_KEYS_FILE,
      onRejected: (rejected) =>
        void this.audit.emit(messageRejectedEvent(AUDIT_SOURCE, rejected)).catch((err: Error) => {
          this.logger.error({ err: err.message }, 'the audit event of a refused lease request could not be published');
        }),
    };
  }

  /** Requests and replies are checked against the contract; refusals answer with a safe message. */
  @MessagePattern(Topics.VaultLease)
  lease(@Payload() payload: unknown, @Ctx() ctx: KafkaContext): Promise<VaultLeaseReply> {
    return answerRequest(
      Topics.VaultLease,
      payload,
      ctx,
      this.logger,
      (request) => this.leases.issue(request),
      this.security,
    );
  }
}
