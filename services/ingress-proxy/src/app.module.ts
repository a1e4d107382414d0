import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Kafka } from 'kafkajs';
import { IdentityModule, identityConfigFromSettings } from '@airlock/identity';
import { KAFKA, KafkaProducer, createKafka, kafkaHealthCheck, nestKafkaLogSink } from '@airlock/messaging';
import { MetricsController } from '@airlock/observability';
import { HEALTH_CHECKS, HealthController, SERVICE_NAME, kafkaConnection, loggerModule } from '@airlock/runtime';
import { ApprovalEventsHandler } from './approval-client/approval-events.handler';
import { ApprovalClient } from './approval-client/approval.client';
import { AuditService } from './audit/audit.service';
import { INGRESS_CONFIG, type IngressConfig } from './config';
import { ConnectionRegistry } from './connections/connection.registry';
import { GatewayExceptionFilter } from './gateway-exception.filter';
import { CLOCK, LeaseClient } from './credentials/lease.client';
import { VaultEventsHandler } from './credentials/vault-events.handler';
import { ResponseMasking } from './masking/response-masking';
import { PolicyClient } from './policy-client/policy-client.service';
import { IngressRpc } from './rpc/ingress-rpc';
import { PolicyEventsHandler } from './policy-client/policy-events.handler';
import { PostgresAdapterModule } from './postgres/postgres.module';
import { HttpAdapterModule } from './http/http.module';
import { McpAdapterModule } from './mcp/mcp.module';

@Global()
@Module({})
export class AppModule {
  static forConfig(config: IngressConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggerModule('ingress-proxy', config.LOG_LEVEL),
        IdentityModule.forRoot(identityConfigFromSettings(config)),
        HttpAdapterModule,
        PostgresAdapterModule,
        McpAdapterModule,
      ],
      controllers: [
        HealthController,
        MetricsController,
        PolicyEventsHandler,
        VaultEventsHandler,
        ApprovalEventsHandler,
      ],
      providers: [
        { provide: INGRESS_CONFIG, useValue: config },
        {
          provide: KAFKA,
          useFactory: (): Kafka =>
            createKafka({ ...kafkaConnection(config), clientId: 'airlock-ingress-proxy' }, nestKafkaLogSink()),
        },
        ConnectionRegistry,
        AuditService,
        IngressRpc,
        KafkaProducer,
        PolicyClient,
        { provide: CLOCK, useValue: Date.now },
        LeaseClient,
        ApprovalClient,
        ResponseMasking,
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
        { provide: SERVICE_NAME, useValue: 'ingress-proxy' },
        {
          provide: HEALTH_CHECKS,
          inject: [KAFKA, IngressRpc],
          useFactory: (kafka: Kafka, rpc: IngressRpc) => [
            kafkaHealthCheck(kafka),
            {
              name: 'kafka-replies',
              check: async () => {
                if (!rpc.isConnected) throw new Error('reply consumer not connected');
              },
            },
          ],
        },
      ],
      // What the protocol adapters share: the operation pipeline's dependencies, the lease client,
      // the connections and the token verifier.
      // The adapter modules' tool ports reach the MCP adapter through here: adapters never import each other.
      exports: [
        HttpAdapterModule,
        PostgresAdapterModule,
        INGRESS_CONFIG,
        KAFKA,
        IdentityModule,
        ConnectionRegistry,
        AuditService,
        PolicyClient,
        CLOCK,
        LeaseClient,
        ApprovalClient,
        ResponseMasking,
      ],
    };
  }
}
