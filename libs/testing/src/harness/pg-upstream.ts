import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { queryOnce } from './databases';
import { infraEnv, repoRoot, runId } from './infra';

/** The local PostgreSQL server's self-signed certificate (infra/local/start.sh makes it). */
export function localPgServerCertFile(): string {
  return join(repoRoot(), '.local', 'pg', 'tls', 'server.crt');
}

/**
 * A PostgreSQL database that plays an agent's upstream: its own database and its own login role
 * (password stored as SCRAM-SHA-256, as the local server is configured), dropped at the end.
 * The role's password is what the vault holds and the agent must never see.
 */
export class PgUpstreamDatabase {
  private constructor(
    readonly database: string,
    readonly user: string,
    readonly password: string,
    readonly host: string,
    readonly port: number,
  ) {}

  static async create(prefix = 'airlock_up'): Promise<PgUpstreamDatabase> {
    const admin = new URL(infraEnv().DATABASE_URL);
    const id = runId();
    const database = `${prefix}_${id}`;
    const user = `${prefix}_role_${id}`;
    const password = `up-${randomBytes(12).toString('hex')}`;
    const c = new Client({ connectionString: admin.toString() });
    await c.connect();
    try {
      await c.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
      await c.query(`CREATE DATABASE ${database} OWNER ${user}`);
    } finally {
      await c.end();
    }
    return new PgUpstreamDatabase(database, user, password, admin.hostname, Number(admin.port || 5432));
  }

  /** The upstream URL a vault connection names (no credentials in it). */
  upstreamUrl(sslmode = 'disable'): string {
    return `postgres://${this.host}:${this.port}/${this.database}?sslmode=${sslmode}`;
  }

  /** A direct connection string with the upstream role's credentials (the tests' own view). */
  get directUrl(): string {
    return `postgres://${this.user}:${encodeURIComponent(this.password)}@${this.host}:${this.port}/${this.database}`;
  }

  query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return queryOnce<R>(this.directUrl, sql, params);
  }

  async drop(): Promise<void> {
    const c = new Client({ connectionString: infraEnv().DATABASE_URL });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${this.user}`);
    } finally {
      await c.end();
    }
  }
}

/** A self-signed certificate and key (PEM files in `dir`) for a local TLS listener, made with openssl. */
export function selfSignedCertificate(dir: string, name = 'localhost'): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '30',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name},IP:127.0.0.1`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile };
}
