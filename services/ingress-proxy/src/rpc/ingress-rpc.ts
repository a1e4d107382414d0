import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { Topics } from '@airlock/contracts';
import { KAFKA, RequestReplyClient } from '@airlock/messaging';
import { INGRESS_CONFIG, type IngressConfig } from '../config';

/** The ingress instance's one request/reply client: policy decisions, vault leases and approvals. */
@Injectable()
export class IngressRpc extends RequestReplyClient implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(KAFKA) kafka: Kafka, @Inject(INGRESS_CONFIG) config: IngressConfig) {
    super(kafka, {
      groupId: `${config.KAFKA_GROUP_PREFIX}-ingress-proxy-replies-${config.INSTANCE_ID}`,
      topics: [Topics.PolicyEvaluate, Topics.VaultLease, Topics.ApprovalRequest],
    });
  }

  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
