import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PgUpstreamDatabase, repoRoot } from '@airlock/testing';
import { TestSystem } from './support/system';

const run = promisify(execFile);

/** The venv infra/local/install.sh fills from infra/local/python-requirements.txt. */
const PYTHON = join(repoRoot(), '.local', 'pyenv', 'bin', 'python');
const SCRIPT = join(repoRoot(), 'test', 'clients', 'pg_drivers.py');

interface DriverRun {
  driver: string;
  version?: string;
  error?: { sqlstate: string | null; message: string };
  encoding?: string;
  select?: number;
  masked?: [string, string | null];
  denied?: { sqlstate: string | null; message: string };
  prepared?: string[];
  after?: number;
}

/**
 * Widely used Python drivers through the gateway's PostgreSQL listener: asyncpg (its own protocol
 * implementation, which sends client_encoding='utf-8') and psycopg 3 (libpq). Both connect with
 * TLS and the agent's token as the password.
 */
describe('Python PostgreSQL drivers through the gateway', () => {
  const sys = new TestSystem();
  let db: PgUpstreamDatabase;
  let token: string;

  async function drive(driver: 'asyncpg' | 'psycopg'): Promise<DriverRun> {
    if (!existsSync(PYTHON)) throw new Error(`no Python drivers in ${PYTHON}: run infra/local/install.sh`);
    const r = await run(PYTHON, [SCRIPT, driver, '127.0.0.1', String(sys.pgPort), 'pgdb'], {
      env: { ...process.env, AIRLOCK_TOKEN: token },
      timeout: 60000,
    });
    return JSON.parse(r.stdout.trim()) as DriverRun;
  }

  beforeAll(async () => {
    await sys.start({ postgres: true });
    db = await PgUpstreamDatabase.create('airlock_drivers_up');
    await db.query(`
      CREATE TABLE customers (id int PRIMARY KEY, name text, ssn text);
      CREATE TABLE orders (id serial PRIMARY KEY, customer_id int, amount numeric);
      INSERT INTO customers VALUES (1, 'Ada', '078-05-1120'), (2, 'Bob', '219-09-9999');
      INSERT INTO orders (customer_id, amount) SELECT 1 + g % 2, g FROM generate_series(1, 7) g;
    `);
    await sys.addPgConnection('pgdb', db);
    token = await sys.token();
  }, 240000);

  afterAll(async () => {
    await sys.stop();
    await db?.drop();
  }, 60000);

  // asyncpg asks for every result column in binary format, psycopg for text: the mask is shown in both.
  it.each([
    ['asyncpg', '[MASKED:column:public.customers.ssn]'],
    ['psycopg', '[MASKED:column:public.customers.ssn]'],
  ] as const)(
    '%s connects over TLS with the token, reads, is masked, is refused by policy and runs prepared statements',
    async (driver, maskedSsn) => {
      const r = await drive(driver);
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({
        driver,
        encoding: 'UTF8',
        select: 7,
        masked: ['Ada', maskedSsn],
        denied: {
          sqlstate: '42501',
          message: expect.stringMatching(/^refused by policy: no rule allows DROP TABLE on connection pgdb/),
        },
        prepared: ['Ada', 'Bob'],
        after: 42,
      });
      expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM customers'))[0].n).toBe('2');
    },
  );
});
