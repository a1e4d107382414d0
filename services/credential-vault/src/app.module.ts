import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { KAFKA, createKafka, kafkaHealthCheck, nestKafkaLogSink } from '@airlock/messaging';
import { HEALTH_CHECKS, HealthController, SERVICE_NAME, loggerModule } from '@airlock/runtime';
import type { VaultConfig } from './config';
import { LeaseHandler } from './lease/lease.handler';

@Module({})
export class AppModule {
  static forConfig(config: VaultConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggerModule('credential-vault', config.LOG_LEVEL),
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: config.DATABASE_URL,
          synchronize: false,
          retryAttempts: 3,
          retryDelay: 1000,
        }),
      ],
      controllers: [HealthController, LeaseHandler],
      providers: [
        {
          provide: KAFKA,
          useFactory: (): Kafka =>
            createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'airlock-credential-vault' }, nestKafkaLogSink()),
        },
        { provide: SERVICE_NAME, useValue: 'credential-vault' },
        {
          provide: HEALTH_CHECKS,
          inject: [KAFKA, getDataSourceToken()],
          useFactory: (kafka: Kafka, db: DataSource) => [
            kafkaHealthCheck(kafka),
            { name: 'database', check: async () => void (await db.query('SELECT 1')) },
          ],
        },
      ],
    };
  }
}
