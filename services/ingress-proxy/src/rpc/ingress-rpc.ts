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
 * A refused answer is logged and audited (`message.rejected`); the call waits on for the genuine
 * answer, and fails closed when none comes within its deadline.
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
          const { topic, reason, signer, keyId, requestId, sessionId } = rejected;
          logger.error(
            { topic, reason, signer, keyId, requestId, sessionId },
            'refused an answer whose signature does not verify; only a genuine answer is acted on',
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
