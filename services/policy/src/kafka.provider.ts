import type { Provider } from '@nestjs/common';
import { KAFKA, createKafka, nestKafkaLogSink } from '@airlock/messaging';
import { POLICY_CONFIG, type PolicyConfig } from './config';

export { KAFKA };

export const kafkaProvider: Provider = {
  provide: KAFKA,
  inject: [POLICY_CONFIG],
  useFactory: (config: PolicyConfig) =>
    createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'airlock-policy' }, nestKafkaLogSink()),
};
