import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Kafka } from 'kafkajs';
import { IdentityModule, identityConfigFromSettings } from '@airlock/identity';
import { KAFKA, kafkaHealthCheck } from '@airlock/messaging';
import { MetricsController } from '@airlock/observability';
import { HEALTH_CHECKS, HealthController, SERVICE_NAME } from '@airlock/runtime';
import { AuditModule } from './audit/audit.module';
import { AuditRepository } from './audit/audit.repository';
import type { RecorderConfig } from './config';
import { IntegrityModule } from './integrity/integrity.module';
import { AuditPipelines } from './pipelines/audit-pipelines';
import { RecorderExceptionFilter } from './recorder-exception.filter';
import { PublishingModule } from './publishing/publishing.module';
import { ReplayModule } from './replay/replay.module';
import { RetentionModule } from './retention/retention.module';
import { recorderCore } from './recorder-core';

@Global()
@Module({})
export class AppModule {
  static forConfig(config: RecorderConfig): DynamicModule {
    const core = recorderCore(config);
    return {
      module: AppModule,
      imports: [
        ...core.imports,
        IdentityModule.forRoot(identityConfigFromSettings(config)),
        AuditModule,
        IntegrityModule,
        RetentionModule,
        PublishingModule,
        ReplayModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        ...core.providers,
        { provide: APP_FILTER, useClass: RecorderExceptionFilter },
        { provide: SERVICE_NAME, useValue: 'recorder' },
        {
          provide: HEALTH_CHECKS,
          inject: [KAFKA, AuditRepository, AuditPipelines],
          useFactory: (kafka: Kafka, repo: AuditRepository, pipelines: AuditPipelines) => [
            kafkaHealthCheck(kafka),
            { name: 'database', check: () => repo.ping() },
            { name: 'audit-consumer', check: () => pipelines.checkRunning() },
          ],
        },
      ],
      exports: core.exports,
    };
  }
}
