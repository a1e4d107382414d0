import type { DataSourceOptions } from 'typeorm';
import { CreateAuditEvent1764057600000 } from '../migrations/1764057600000-create-audit-event';
import { ChainedPartitionedAudit1764072000000 } from '../migrations/1764072000000-chained-partitioned-audit';
import { AuditDeadLetter1765000000000 } from '../migrations/1765000000000-audit-deadletter';
import { AuditSessionSummary1796600000000 } from '../migrations/1796600000000-audit-session-summary';
import type { RecorderStoreConfig } from '../config';
import { StoreSetupError } from './store-setup';

export const RECORDER_MIGRATIONS = [
  CreateAuditEvent1764057600000,
  ChainedPartitionedAudit1764072000000,
  AuditDeadLetter1765000000000,
  AuditSessionSummary1796600000000,
];

/** The recorder's everyday connection, as its INSERT-and-SELECT role. Never migrates. */
export function writerOptions(config: RecorderStoreConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    entities: [],
    migrationsRun: false,
    synchronize: false,
    applicationName: 'airlock-recorder',
  };
}

/** The owner's connection: migrations, grants, retention. */
export function ownerOptions(config: RecorderStoreConfig & { DATABASE_OWNER_URL: string }): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_OWNER_URL,
    entities: [],
    migrations: RECORDER_MIGRATIONS,
    migrationsTableName: 'recorder_migrations',
    migrationsRun: false,
    synchronize: false,
    applicationName: 'airlock-recorder-owner',
    extra: { max: 2 },
  };
}

/** The role name in a postgres:// URL. */
export function roleOf(url: string): string {
  const role = decodeURIComponent(new URL(url).username);
  if (role === '') throw new StoreSetupError('DATABASE_URL names no user: the recorder connects as a role of its own');
  return role;
}
