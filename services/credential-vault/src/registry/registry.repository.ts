import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { EncryptedSecret } from '../keys/secret-cipher';
import { ConnectionEntity, type StoredActor } from './connection.entity';
import { SecretEntity } from './secret.entity';

/** A connection with the version and time of its current secret (no secret columns). */
export interface ConnectionSummary {
  connection: ConnectionEntity;
  secretVersion: number | null;
  secretSetAt: Date | null;
  /** Who stored the current secret version: who rotated it last. */
  secretSetBy: StoredActor | null;
}

/** A connection with its current secret, encrypted as stored: what a lease is made from. */
export interface ConnectionWithSecret {
  connection: ConnectionEntity;
  secret: SecretEntity | null;
}

interface SummaryRow {
  name: string;
  protocol: ConnectionEntity['protocol'];
  upstream: string;
  credential_kind: ConnectionEntity['credentialKind'];
  agent_credential_headers: string[];
  created_at: Date;
  created_by: StoredActor;
  secret_version: number | null;
  secret_set_at: Date | null;
  secret_set_by: StoredActor | null;
}

const SUMMARY_SQL = `
  SELECT c.name, c.protocol, c.upstream, c.credential_kind, c.agent_credential_headers, c.created_at, c.created_by,
         s.version AS secret_version, s.created_at AS secret_set_at, s.created_by AS secret_set_by
    FROM vault_connection c
    LEFT JOIN LATERAL (
      SELECT version, created_at, created_by FROM vault_secret WHERE connection = c.name ORDER BY version DESC LIMIT 1
    ) s ON true`;

/** The registry's store: connections and the versions of their secrets. */
@Injectable()
export class RegistryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Inserts a connection unless one of that name exists; false when it does. `beforeCommit`
   * runs inside the transaction (the audit event): if it throws, nothing is stored.
   */
  async createConnection(connection: ConnectionEntity, beforeCommit: () => Promise<void>): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const result = await m
        .createQueryBuilder()
        .insert()
        .into(ConnectionEntity)
        .values(connection)
        .orIgnore()
        .returning(['name'])
        .execute();
      if ((result.raw as unknown[]).length === 0) return false;
      await beforeCommit();
      return true;
    });
  }

  findConnection(name: string): Promise<ConnectionEntity | null> {
    return this.db.getRepository(ConnectionEntity).findOneBy({ name });
  }

  async summary(name: string): Promise<ConnectionSummary | null> {
    const rows: SummaryRow[] = await this.db.query(`${SUMMARY_SQL} WHERE c.name = $1`, [name]);
    return rows.length === 0 ? null : toSummary(rows[0]);
  }

  async summaries(): Promise<ConnectionSummary[]> {
    const rows: SummaryRow[] = await this.db.query(`${SUMMARY_SQL} ORDER BY c.name`);
    return rows.map(toSummary);
  }

  async withCurrentSecret(name: string): Promise<ConnectionWithSecret | null> {
    const connection = await this.db.getRepository(ConnectionEntity).findOneBy({ name });
    if (!connection) return null;
    const secret = await this.db
      .getRepository(SecretEntity)
      .findOne({ where: { connection: name }, order: { version: 'DESC' } });
    return { connection, secret };
  }

  /**
   * Stores the next version of a connection's secret: the connection row is locked so
   * concurrent writers take turns, `encrypt` seals the secret to the version it gets, and
   * `beforeCommit` (the audit event) must succeed for the version to exist. Null when the
   * connection does not exist.
   */
  async addSecretVersion(
    name: string,
    meta: { createdAt: Date; createdBy: StoredActor },
    encrypt: (version: number) => Promise<EncryptedSecret>,
    beforeCommit: (version: number, stored: EncryptedSecret) => Promise<void>,
  ): Promise<number | null> {
    return this.db.transaction(async (m) => {
      const locked = await m
        .getRepository(ConnectionEntity)
        .createQueryBuilder('c')
        .select('c.name')
        .where('c.name = :name', { name })
        .setLock('pessimistic_write')
        .getOne();
      if (!locked) return null;
      const latest = await m
        .getRepository(SecretEntity)
        .createQueryBuilder('s')
        .select('MAX(s.version)', 'max')
        .where('s.connection = :name', { name })
        .getRawOne<{ max: number | null }>();
      const version = (latest?.max ?? 0) + 1;
      const stored = await encrypt(version);
      await m.getRepository(SecretEntity).insert({ connection: name, version, ...stored, ...meta });
      await beforeCommit(version, stored);
      return version;
    });
  }
}

function toSummary(r: SummaryRow): ConnectionSummary {
  return {
    connection: Object.assign(new ConnectionEntity(), {
      name: r.name,
      protocol: r.protocol,
      upstream: r.upstream,
      credentialKind: r.credential_kind,
      agentCredentialHeaders: r.agent_credential_headers,
      createdAt: r.created_at,
      createdBy: r.created_by,
    }),
    secretVersion: r.secret_version,
    secretSetAt: r.secret_set_at,
    secretSetBy: r.secret_set_by,
  };
}
