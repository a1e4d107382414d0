import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { IdentityModule, identityConfigFromSettings } from '@airlock/identity';
import { KAFKA, createKafka, kafkaHealthCheck, nestKafkaLogSink } from '@airlock/messaging';
import { MetricsController } from '@airlock/observability';
import { HEALTH_CHECKS, HealthController, SERVICE_NAME, kafkaConnection, loggerModule } from '@airlock/runtime';
import { ApprovalExceptionFilter } from './approval-exception.filter';
import { ApprovalModule } from './approval/approval.module';
import { CLOCK, type Clock } from './clock';
import { APPROVAL_CONFIG, type ApprovalConfig } from './config';
import { approvalDatabase } from './database';
import { PublishingModule } from './publishing/publishing.module';
import { redisHealthCheck } from './redis.health';

@Global()
@Module({})
export class AppModule {
  static forConfig(config: ApprovalConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggerModule('approval', config.LOG_LEVEL),
        TypeOrmModule.forRoot(approvalDatabase(config)),
        IdentityModule.forRoot(identityConfigFromSettings(config)),
        PublishingModule,
        ApprovalModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APPROVAL_CONFIG, useValue: config },
        { provide: CLOCK, useValue: (() => Date.now()) satisfies Clock },
        { provide: APP_FILTER, useClass: ApprovalExceptionFilter },
        {
          provide: KAFKA,
          useFactory: (): Kafka =>
            createKafka({ ...kafkaConnection(config), clientId: 'airlock-approval' }, nestKafkaLogSink()),
        },
        { provide: SERVICE_NAME, useValue: 'approval' },
        {
          provide: HEALTH_CHECKS,
          inject: [KAFKA, getDataSourceToken()],
          useFactory: (kafka: Kafka, db: DataSource) => [
            kafkaHealthCheck(kafka),
            { name: 'database', check: async () => void (await db.query('SELECT 1')) },
            redisHealthCheck(config.REDIS_URL),
          ],
        },
      ],
      exports: [APPROVAL_CONFIG, CLOCK, KAFKA],
    };
  }
}
