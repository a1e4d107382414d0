import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { Topics } from '@airlock/contracts';
import { KAFKA, RequestReplyClient, messageRejectedEvent, type RejectedMessage } from '@airlock/messaging';
import { AuditService } from '../audit/audit.service';
import { INGRESS_CONFIG, type IngressConfig } from '../config';

/**
 * The ingress instance's one request/reply client: policy decisions, vault leases, approvals and their status.
 * Its requests are signed with the instance's identity key; an answer is used only when the
 * service that answers its topic signed it for this very request, with a key the ingress trusts.
 * A refused answer is logged and audited (`message.rejected`), and the caller fails closed.
 */
@Injectable()
export class IngressRpc extends RequestReplyClient implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(KAFKA) kafka: Kafka, @Inject(INGRESS_CONFIG) config: IngressConfig, audit: AuditService) {
    const logger = new Logger(IngressRpc.name);
    super(kafka, {
      groupId: `${config.KAFKA_GROUP_PREFIX}-ingress-proxy-replies-${config.INSTANCE_ID}`,
      topics: [Topics.PolicyEvaluate, Topics.VaultLease, Topics.ApprovalRequest, Topics.ApprovalStatus],
      security: {
        signer: config.SIGNING_KEY_FILE,
        trust: config.TRUSTED_KEYS_FILE,
        onRejected: (rejected: RejectedMessage) => {
          logger.error(
            { topic: rejected.topic, reason: rejected.reason, signer: rejected.signer, keyId: rejected.keyId },
            'refused an answer whose signature does not verify; the operation fails closed',
          );
          audit.emitAfter(messageRejectedEvent('ingress-proxy', rejected));
        },
      },
    });
  }

  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
