import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Kafka } from 'kafkajs';
import { KAFKA, createKafka, kafkaHealthCheck, nestKafkaLogSink } from '@airlock/messaging';
import { HEALTH_CHECKS, HealthController, SERVICE_NAME, loggerModule } from '@airlock/runtime';
import { AuditConsumer } from './audit/audit.consumer';
import { AuditEventEntity } from './audit/audit-event.entity';
import { AuditModule } from './audit/audit.module';
import { AuditRepository } from './audit/audit.repository';
import { RECORDER_CONFIG, type RecorderConfig } from './config';
import { CreateAuditEvent1764057600000 } from './migrations/1764057600000-create-audit-event';

@Global()
@Module({})
export class AppModule {
  static forConfig(config: RecorderConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggerModule('recorder', config.LOG_LEVEL),
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: config.DATABASE_URL,
          entities: [AuditEventEntity],
          migrations: [CreateAuditEvent1764057600000],
          migrationsRun: true,
          migrationsTableName: 'recorder_migrations',
          synchronize: false,
          retryAttempts: 3,
          retryDelay: 1000,
        }),
        AuditModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: RECORDER_CONFIG, useValue: config },
        {
          provide: KAFKA,
          useFactory: (): Kafka =>
            createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'airlock-recorder' }, nestKafkaLogSink()),
        },
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
