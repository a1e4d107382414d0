import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { infraEnv, runId } from './infra';

/** One statement on a connection of its own. */
export async function queryOnce<R extends object = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as R[];
  } finally {
    await c.end();
  }
}

/** A database of its own for one test file, dropped at the end. */
export class TestDatabase {
  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly adminUrl: string,
  ) {}

  static async create(prefix = 'airlock_test'): Promise<TestDatabase> {
    const adminUrl = infraEnv().DATABASE_URL;
    const name = `${prefix}_${runId()}`;
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return new TestDatabase(name, url.toString(), adminUrl);
  }

  /** This database as the recorder's INSERT-and-SELECT role (created by infra/local/start.sh). */
  get recorderUrl(): string {
    const url = new URL(infraEnv().RECORDER_DATABASE_URL);
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  /**
   * The recorder's store settings on this database: its own role, the owner (which migrates and
   * grants), and a fresh checkpoint signing key written into `dir`.
   */
  recorderEnv(dir: string): { DATABASE_URL: string; DATABASE_OWNER_URL: string; AUDIT_SIGNING_KEY_FILE: string } {
    const keyFile = join(dir, `audit-signing-${this.name}.pem`);
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return { DATABASE_URL: this.recorderUrl, DATABASE_OWNER_URL: this.url, AUDIT_SIGNING_KEY_FILE: keyFile };
  }

  /**
   * The whole environment of a recorder on the local infrastructure storing into this database:
   * its Kafka group prefix, the issuer whose tokens it accepts, and the audit stream read from
   * its end. Callers add what their run needs (checkpoint interval, log level).
   */
  standaloneRecorderEnv(
    dir: string,
    groupPrefix: string,
    idp: { issuer: string; jwksUri: string },
  ): Record<string, string> {
    return {
      KAFKA_BROKERS: infraEnv().KAFKA_BROKERS,
      KAFKA_GROUP_PREFIX: groupPrefix,
      OIDC_ISSUERS: JSON.stringify([{ issuer: idp.issuer, jwksUri: idp.jwksUri }]),
      OIDC_AUDIENCE: 'airlock',
      AUDIT_START_FROM: 'latest',
      ...this.recorderEnv(dir),
    };
  }

  query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return queryOnce<R>(this.url, sql, params);
  }

  async drop(): Promise<void> {
    const admin = new Client({ connectionString: this.adminUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

export interface StoredAuditEvent {
  id: string;
  type: string;
  session_id: string;
  request_id: string;
  actor_issuer: string | null;
  actor_subject: string | null;
  connection: string | null;
  event: { data: Record<string, unknown> } & Record<string, unknown>;
}

/** Reads the recorder's store. */
export class AuditStoreClient {
  constructor(private readonly db: TestDatabase) {}

  byRequest(requestId: string): Promise<StoredAuditEvent[]> {
    return this.db.query<StoredAuditEvent>('SELECT * FROM audit_event WHERE request_id = $1 ORDER BY seq', [requestId]);
  }

  bySession(sessionId: string): Promise<StoredAuditEvent[]> {
    return this.db.query<StoredAuditEvent>('SELECT * FROM audit_event WHERE session_id = $1 ORDER BY seq', [sessionId]);
  }

  /** Events of tool calls through the MCP front door, of one tool. */
  byTool(tool: string): Promise<StoredAuditEvent[]> {
    return this.db.query<StoredAuditEvent>(
      "SELECT * FROM audit_event WHERE protocol = 'mcp' AND event->>'tool' = $1 ORDER BY chain, seq",
      [tool],
    );
  }

  async count(): Promise<number> {
    const [r] = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM audit_event');
    return Number(r.n);
  }

  /** Waits until the request's events include every type in `types`. */
  async waitForRequest(requestId: string, types: string[], timeoutMs = 15000): Promise<StoredAuditEvent[]> {
    const { waitFor } = await import('./wait');
    return waitFor(
      `audit events ${types.join(', ')} of request ${requestId}`,
      async () => {
        const rows = await this.byRequest(requestId);
        return types.every((t) => rows.some((r) => r.type === t)) ? rows : undefined;
      },
      { timeoutMs },
    );
  }
}
