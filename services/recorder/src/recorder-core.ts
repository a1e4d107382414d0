import type { DynamicModule, Provider } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { KAFKA, createKafka, nestKafkaLogSink } from '@airlock/messaging';
import { kafkaConnection, loggerModule } from '@airlock/runtime';
import { RECORDER_CONFIG, type RecorderConfig } from './config';
import { StoreModule } from './store/store.module';

/**
 * What every recorder thread stands on: its settings, its logger, its store connection (and the
 * owner's, where it migrates) and its Kafka client. The whole recorder and a pipeline thread each
 * add their own modules to it.
 */
export function recorderCore(
  config: RecorderConfig,
  /** Fields on every log line besides the service's (a pipeline thread's number). */
  logFields: Record<string, string | number> = {},
): {
  imports: DynamicModule[];
  providers: Provider[];
  exports: symbol[];
} {
  return {
    imports: [loggerModule('recorder', config.LOG_LEVEL, logFields), StoreModule.forConfig(config)],
    providers: [
      { provide: RECORDER_CONFIG, useValue: config },
      {
        provide: KAFKA,
        useFactory: (): Kafka =>
          createKafka({ ...kafkaConnection(config), clientId: 'airlock-recorder' }, nestKafkaLogSink()),
      },
    ],
    exports: [RECORDER_CONFIG, KAFKA],
  };
}
