import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
}

/** Where kafkajs log lines go; pino and Nest loggers both fit. */
export interface KafkaLogSink {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export function kafkaLogCreator(sink: KafkaLogSink): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { namespace, ...extra };
      if (level === logLevel.ERROR) sink.error(fields, message);
      else if (level === logLevel.WARN) sink.warn(fields, message);
      else if (level === logLevel.INFO) sink.info(fields, message);
      else sink.debug(fields, message);
    };
}

export function createKafka(settings: KafkaSettings, sink: KafkaLogSink): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(sink),
    // Fail fast: a request/reply caller has its own deadline, and the connection is retried.
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 2000 },
  });
}

/** A health check that asks the broker for cluster metadata. */
export function kafkaHealthCheck(kafka: Kafka): { name: string; check(): Promise<void>; close(): Promise<void> } {
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  return {
    name: 'kafka',
    async check() {
      connected ??= admin.connect().catch((err) => {
        connected = undefined;
        throw err;
      });
      await connected;
      await admin.describeCluster();
    },
    async close() {
      if (connected) await admin.disconnect();
    },
  };
}
