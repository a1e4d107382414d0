import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Kafka } from 'kafkajs';
import { IdentityModule, identityConfigFromSettings } from '@airlock/identity';
import { KAFKA, createKafka, kafkaHealthCheck, nestKafkaLogSink } from '@airlock/messaging';
import { MetricsController } from '@airlock/observability';
import { HEALTH_CHECKS, HealthController, SERVICE_NAME, kafkaConnection, loggerModule } from '@airlock/runtime';
import { AuditConsumer } from './audit/audit.consumer';
import { AuditModule } from './audit/audit.module';
import { AuditRepository } from './audit/audit.repository';
import { RECORDER_CONFIG, type RecorderConfig } from './config';
import { IntegrityModule } from './integrity/integrity.module';
import { RecorderExceptionFilter } from './recorder-exception.filter';
import { PublishingModule } from './publishing/publishing.module';
import { ReplayModule } from './replay/replay.module';
import { RetentionModule } from './retention/retention.module';
import { StoreModule } from './store/store.module';

@Global()
@Module({})
export class AppModule {
  static forConfig(config: RecorderConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggerModule('recorder', config.LOG_LEVEL),
        StoreModule.forConfig(config),
        IdentityModule.forRoot(identityConfigFromSettings(config)),
        AuditModule,
        IntegrityModule,
        RetentionModule,
        PublishingModule,
        ReplayModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: RECORDER_CONFIG, useValue: config },
        {
          provide: KAFKA,
          useFactory: (): Kafka =>
            createKafka({ ...kafkaConnection(config), clientId: 'airlock-recorder' }, nestKafkaLogSink()),
        },
        { provide: APP_FILTER, useClass: RecorderExceptionFilter },
        { provide: SERVICE_NAME, useValue: 'recorder' },
        {
          provide: HEALTH_CHECKS,
          inject: [KAFKA, AuditRepository, AuditConsumer],
          useFactory: (kafka: Kafka, repo: AuditRepository, consumer: AuditConsumer) => [
            kafkaHealthCheck(kafka),
            { name: 'database', check: () => repo.ping() },
            {
              name: 'audit-consumer',
              check: async () => {
                if (!consumer.isRunning) throw new Error('audit consumer is not running');
              },
            },
          ],
        },
      ],
      exports: [RECORDER_CONFIG, KAFKA],
    };
  }
}
