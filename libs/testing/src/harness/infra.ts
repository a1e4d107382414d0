import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { KafkaPrincipal } from '@airlock/contracts';

/** The repository root (libs/testing/src/harness → ../../../..), also when run from dist/. */
export function repoRoot(): string {
  const here = resolve(__dirname, '../../../..');
  return here.endsWith('/dist') ? resolve(here, '..') : here;
}

/** Addresses of the infrastructure `infra/local/start.sh` runs (same defaults as infra/local/env.sh). */
export function infraEnv(): {
  KAFKA_BROKERS: string;
  DATABASE_URL: string;
  RECORDER_DATABASE_URL: string;
  REDIS_URL: string;
} {
  const pgPort = process.env.AIRLOCK_PG_PORT ?? '15432';
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.AIRLOCK_KAFKA_PORT ?? '19092'}`,
    DATABASE_URL:
      process.env.DATABASE_URL ??
      `postgres://${process.env.AIRLOCK_PG_USER ?? 'airlock'}:${process.env.AIRLOCK_PG_PASSWORD ?? 'airlock-local'}@127.0.0.1:${pgPort}/${process.env.AIRLOCK_PG_DB ?? 'airlock'}`,
    RECORDER_DATABASE_URL:
      process.env.RECORDER_DATABASE_URL ??
      `postgres://${process.env.AIRLOCK_PG_RECORDER_USER ?? 'airlock_recorder'}:${process.env.AIRLOCK_PG_RECORDER_PASSWORD ?? 'airlock-recorder-local'}@127.0.0.1:${pgPort}/${process.env.AIRLOCK_PG_DB ?? 'airlock'}`,
    REDIS_URL: process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.AIRLOCK_REDIS_PORT ?? '16379'}`,
  };
}

/** Where infra/local/start.sh keeps the generated Kafka passwords, one file per principal. */
export function kafkaCredentialsDir(): string {
  return process.env.AIRLOCK_KAFKA_CREDENTIALS_DIR ?? resolve(repoRoot(), '.local', 'kafka', 'credentials');
}

export function kafkaPasswordFile(principal: KafkaPrincipal): string {
  return resolve(kafkaCredentialsDir(), `${principal}.password`);
}

/** A principal's SASL/SCRAM settings for kafkajs (the test's own clients use the admin). */
export function kafkaSasl(principal: KafkaPrincipal = 'admin'): SASLOptions {
  const file = kafkaPasswordFile(principal);
  if (!existsSync(file)) throw new Error(`no Kafka password for ${principal} at ${file}: run infra/local/start.sh`);
  return { mechanism: 'scram-sha-512', username: principal, password: readFileSync(file, 'utf8').trim() };
}

/** kafkajs settings for a test's own client: the local brokers and a principal's credential. */
export function kafkaClientConfig(clientId: string, principal: KafkaPrincipal = 'admin'): KafkaConfig {
  return { clientId, brokers: infraEnv().KAFKA_BROKERS.split(','), sasl: kafkaSasl(principal) };
}

/** The settings that make a service log in to Kafka as its own principal. */
export function serviceKafkaEnv(principal: KafkaPrincipal): Record<string, string> {
  return { KAFKA_SASL_USERNAME: principal, KAFKA_SASL_PASSWORD_FILE: kafkaPasswordFile(principal) };
}

/** Whether `port` can be listened on at 127.0.0.1 right now. */
function canListen(port: number): Promise<number | undefined> {
  return new Promise((resolvePort) => {
    const srv = createServer();
    srv.once('error', () => resolvePort(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : undefined;
      srv.close(() => resolvePort(bound));
    });
  });
}

/** The first port the kernel hands out to outgoing connections (32768 unless configured otherwise). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A port that is free now, for a server that a test binds later (often a service process started
 * seconds later). It is taken from below the kernel's ephemeral range: a port from that range
 * (what listening on port 0 gives) can be taken meanwhile as the local port of any outgoing
 * connection, by the services starting up, and the later bind then fails.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.max(20000, high - 12000);
  if (high - low >= 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = await canListen(low + Math.floor(Math.random() * (high - low + 1)));
      if (port !== undefined) return port;
    }
  }
  const any = await canListen(0);
  if (any === undefined) throw new Error('no free port to listen on');
  return any;
}

/** A fresh suffix so a test run's consumer groups and databases never meet another run's. */
export function runId(): string {
  return randomBytes(4).toString('hex');
}
