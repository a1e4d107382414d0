import { Client } from 'pg';
import type { ActiveLease } from '../credentials/lease.client';
import { upstreamAddress } from './pg-upstream';

/** Where a result column comes from, as the catalog names it. */
export interface ColumnOrigin {
  schema: string;
  table: string;
  column: string;
}

interface CachedTable {
  columns: Map<number, ColumnOrigin>;
  expiresAt: number;
}

const TTL_MS = 5 * 60_000;
const MAX_TABLES = 10_000;

/**
 * Resolves RowDescription table OIDs and attribute numbers to schema, table and column names,
 * over one side connection per gateway connection (the agent's session is busy streaming the
 * result the answer is needed for). Answers are cached; OIDs only change meaning when a table
 * is dropped and its OID reused, which the expiry bounds.
 */
export class ColumnCatalog {
  private readonly tables = new Map<string, CachedTable>();
  private readonly clients = new Map<string, Promise<Client>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly ca?: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  /** The origins from the cache alone, or null when some table is not (or no longer) cached. */
  cached(lease: ActiveLease, refs: Array<{ tableOid: number; columnAttr: number }>): Map<string, ColumnOrigin> | null {
    const out = new Map<string, ColumnOrigin>();
    const now = this.now();
    for (const r of refs) {
      const t = this.tables.get(`${lease.connection}:${r.tableOid}`);
      if (!t || t.expiresAt <= now) return null;
      const c = t.columns.get(r.columnAttr);
      if (c) out.set(`${r.tableOid}:${r.columnAttr}`, c);
    }
    return out;
  }

  /** Origins of the given (table OID, attribute number) pairs; missing entries are not table columns. */
  async resolve(
    lease: ActiveLease,
    refs: Array<{ tableOid: number; columnAttr: number }>,
  ): Promise<Map<string, ColumnOrigin>> {
    const out = new Map<string, ColumnOrigin>();
    const missing = new Set<number>();
    const now = this.now();
    for (const r of refs) {
      const t = this.tables.get(`${lease.connection}:${r.tableOid}`);
      if (t && t.expiresAt > now) {
        const c = t.columns.get(r.columnAttr);
        if (c) out.set(`${r.tableOid}:${r.columnAttr}`, c);
      } else {
        missing.add(r.tableOid);
      }
    }
    if (missing.size === 0) return out;
    const rows = await this.query(lease, [...missing]);
    const fetched = new Map<number, CachedTable>();
    for (const oid of missing) fetched.set(oid, { columns: new Map(), expiresAt: now + TTL_MS });
    for (const row of rows) {
      fetched
        .get(Number(row.rel))
        ?.columns.set(row.attnum, { schema: row.nspname, table: row.relname, column: row.attname });
    }
    for (const [oid, t] of fetched) {
      if (this.tables.size >= MAX_TABLES) this.tables.clear();
      this.tables.set(`${lease.connection}:${oid}`, t);
    }
    for (const r of refs) {
      const c = this.tables.get(`${lease.connection}:${r.tableOid}`)?.columns.get(r.columnAttr);
      if (c) out.set(`${r.tableOid}:${r.columnAttr}`, c);
    }
    return out;
  }

  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map(async (p) => (await p).end()));
  }

  private async query(
    lease: ActiveLease,
    oids: number[],
  ): Promise<Array<{ rel: string; attnum: number; nspname: string; relname: string; attname: string }>> {
    return this.sideQuery(
      lease,
      `SELECT a.attrelid::int8::text AS rel, a.attnum, n.nspname, c.relname, a.attname
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0`,
      [oids],
    );
  }

  /**
   * One catalog query over the side connection. Its search_path holds only pg_catalog, so that
   * what the server prints (view definitions) names every other relation with its schema.
   */
  async sideQuery<T>(lease: ActiveLease, text: string, values: unknown[]): Promise<T[]> {
    const key = `${lease.connection}:${lease.leaseId}`;
    let p = this.clients.get(key);
    if (!p) {
      p = this.connect(lease);
      this.clients.set(key, p);
      p.catch(() => this.clients.delete(key));
    }
    try {
      const client = await p;
      const r = await client.query({ text, values });
      return r.rows as T[];
    } catch (err) {
      this.clients.delete(key);
      void p.then((c) => c.end()).catch(() => undefined);
      throw err;
    }
  }

  private async connect(lease: ActiveLease): Promise<Client> {
    if (lease.secret.kind !== 'postgres-password') throw new Error('not a PostgreSQL credential');
    const addr = upstreamAddress(lease.upstream);
    const client = new Client({
      host: addr.host,
      port: addr.port,
      database: addr.database,
      user: lease.secret.username,
      password: lease.secret.password,
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      application_name: 'airlock-catalog',
      // node-postgres has no "prefer": the side connection uses TLS when the URL requires it.
      ssl:
        addr.sslmode === 'disable' || addr.sslmode === 'prefer'
          ? false
          : addr.sslmode === 'verify-full'
            ? { rejectUnauthorized: true, ca: this.ca }
            : { rejectUnauthorized: false },
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(`SELECT pg_catalog.set_config('search_path', 'pg_catalog', false)`);
    } catch (err) {
      void client.end().catch(() => undefined);
      throw err;
    }
    return client;
  }
}
