import { Kafka, logLevel, type LogEntry, type SASLOptions, type logCreator } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { quietRequestQueues } from './request-queue-timer';

/** How a client proves who it is to the broker: SASL/SCRAM, over TLS where the network is not loopback. */
export interface KafkaAuth {
  sasl?: SASLOptions;
  /** true: TLS with the system's CAs; an object: TLS with these options (e.g. the broker's CA). */
  ssl?: boolean | ConnectionOptions;
}

export interface KafkaSettings extends KafkaAuth {
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
  quietRequestQueues();
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    sasl: settings.sasl,
    ssl: settings.ssl,
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
