import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { MetricsController } from '@airlock/observability';
import { HEALTH_CHECKS, HealthController, SERVICE_NAME, loggerModule } from '@airlock/runtime';
import { kafkaHealthCheck } from '@airlock/messaging';
import { POLICY_CONFIG, type PolicyConfig } from './config';
import { KAFKA, kafkaProvider } from './kafka.provider';
import { PolicyModule } from './policy/policy.module';

@Global()
@Module({})
export class AppModule {
  static forConfig(config: PolicyConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [loggerModule('policy', config.LOG_LEVEL), PolicyModule],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: POLICY_CONFIG, useValue: config },
        kafkaProvider,
        { provide: SERVICE_NAME, useValue: 'policy' },
        { provide: HEALTH_CHECKS, inject: [KAFKA], useFactory: (kafka: Kafka) => [kafkaHealthCheck(kafka)] },
      ],
      exports: [POLICY_CONFIG, KAFKA],
    };
  }
}
