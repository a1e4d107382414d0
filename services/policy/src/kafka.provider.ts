import type { Provider } from '@nestjs/common';
import { KAFKA, createKafka, nestKafkaLogSink } from '@airlock/messaging';
import { kafkaConnection } from '@airlock/runtime';
import { POLICY_CONFIG, type PolicyConfig } from './config';

export { KAFKA };

export const kafkaProvider: Provider = {
  provide: KAFKA,
  inject: [POLICY_CONFIG],
  useFactory: (config: PolicyConfig) =>
    createKafka({ ...kafkaConnection(config), clientId: 'airlock-policy' }, nestKafkaLogSink()),
};
