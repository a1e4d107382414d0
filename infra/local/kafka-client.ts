/**
 * The kafkajs connection settings of the infra/local scripts: the brokers of KAFKA_BROKERS
 * (default 127.0.0.1:19092) and the admin's SASL/SCRAM credential, from KAFKA_SASL_USERNAME and
 * KAFKA_SASL_PASSWORD_FILE (or KAFKA_SASL_PASSWORD, as in docker-compose.yml) when set, else the admin password file start.sh generated under
 * AIRLOCK_KAFKA_CREDENTIALS_DIR (default <repo>/.local/kafka/credentials).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SASLOptions } from 'kafkajs';

export const brokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.AIRLOCK_KAFKA_PORT ?? '19092'}`)
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b.length > 0);

export function credentialsDir(): string {
  return process.env.AIRLOCK_KAFKA_CREDENTIALS_DIR ?? resolve(__dirname, '../../.local/kafka/credentials');
}

/** A principal's SASL settings from its password file. */
export function saslOf(principal: string): SASLOptions {
  const password = readFileSync(resolve(credentialsDir(), `${principal}.password`), 'utf8').trim();
  return { mechanism: 'scram-sha-512', username: principal, password };
}

export function adminSasl(): SASLOptions {
  const username = process.env.KAFKA_SASL_USERNAME;
  const file = process.env.KAFKA_SASL_PASSWORD_FILE;
  const password = file ? readFileSync(file, 'utf8').trim() : process.env.KAFKA_SASL_PASSWORD;
  if (username && password) return { mechanism: 'scram-sha-512', username, password };
  return saslOf('admin');
}
