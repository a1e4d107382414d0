import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { Client } from 'pg';
import {
  decodeDataRow,
  decodeErrorFields,
  encodeBind,
  encodeCancelRequest,
  encodeDescribe,
  encodeExecute,
  encodeParse,
  encodeQuery,
  encodeStartupMessage,
  encodeSync,
} from '@airlock/pg-wire';
import { PgUpstreamDatabase, githubFormatToken, localPgServerCertFile, waitFor } from '@airlock/testing';
import { RawPgClient, typesOf } from './support/pg-raw';
import { findIn, scanSystem } from './support/scanner';
import { runPsql, type PsqlResult } from './support/psql';
import { TestSystem } from './support/system';

const run = promisify(execFile);

/**
 * The PostgreSQL path end to end: real clients (psql, pgbench, node-postgres) through the
 * gateway's PostgreSQL listener to a real PostgreSQL upstream whose credential only the vault
 * holds, with policy per statement, masked rows and the audit trail in the recorder's store.
 */
describe('PostgreSQL through the gateway', () => {
  const sys = new TestSystem();
  const tag = randomBytes(6).toString('hex');
  const plantedToken = githubFormatToken(`p${tag}`.padEnd(30, 'b'));
  const plantedPassword = `canary-pg-password-${tag}`;
  const plantedSsn = `${tag.slice(0, 3).replace(/[a-f]/g, '7')}-55-${tag.slice(3, 7).replace(/[a-f]/g, '3')}`;
  const startedAt = Date.now() - 60_000;
  const seen: string[] = [];
  let db: PgUpstreamDatabase;
  let bench: PgUpstreamDatabase;
  let token: string;

  function conninfo(dbname: string, sslmode = 'require'): string {
    return `host=127.0.0.1 port=${sys.pgPort} dbname=${dbname} user=agent sslmode=${sslmode}`;
  }

  async function psql(
    args: string[],
    opts: { dbname?: string; sslmode?: string; password?: string } = {},
  ): Promise<PsqlResult> {
    const conn = conninfo(opts.dbname ?? 'pgdb', opts.sslmode);
    return runPsql([conn, '-X', '-v', 'VERBOSITY=verbose', ...args], opts.password ?? token, seen);
  }

  async function pgClient(dbname = 'pgdb', password = token): Promise<Client> {
    const c = new Client({
      host: '127.0.0.1',
      port: sys.pgPort,
      database: dbname,
      user: 'agent',
      password,
      ssl: { rejectUnauthorized: false },
    });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  beforeAll(async () => {
    await sys.start({ postgres: true, pgUpstreamCaFile: localPgServerCertFile() });
    db = await PgUpstreamDatabase.create('airlock_up');
    bench = await PgUpstreamDatabase.create('airlock_bench');
    await db.query(`
      CREATE TABLE customers (id int PRIMARY KEY, name text, email text, ssn text, password text, api_token text, notes text);
      CREATE TABLE orders (id serial PRIMARY KEY, customer_id int, amount numeric);
      CREATE TABLE audit_log (id serial PRIMARY KEY, line text);
      INSERT INTO customers VALUES
        (1, 'Ada', 'ada@example.com', '${plantedSsn}', '${plantedPassword}', '${plantedToken}', 'plain note'),
        (2, 'Bob', 'bob@example.com', '123-45-6789', 'x', NULL, 'deploy with ${plantedToken} today');
      INSERT INTO orders (customer_id, amount) SELECT 1 + g % 2, g FROM generate_series(1, 50) g;
    `);
    await sys.addPgConnection('pgdb', db);
    await sys.addPgConnection('pgbench', bench);
    await sys.addPgConnection('pgcopy', db);
    await sys.addPgConnection('pgtls', db, 'verify-full');
    token = await sys.token();
  }, 240000);

  afterAll(async () => {
    await sys.stop();
    await db?.drop();
    await bench?.drop();
  }, 60000);

  describe('psql', () => {
    it('runs queries and \\d', async () => {
      const count = await psql(['-A', '-t', '-c', 'SELECT count(*) FROM orders']);
      expect(count.stderr).toBe('');
      expect(count.stdout.trim()).toBe('50');
      const d = await psql(['-c', '\\d customers']);
      expect(d.code).toBe(0);
      expect(d.stdout).toContain('Table "public.customers"');
      expect(d.stdout).toMatch(/api_token\s+\|\s+text/);
    });

    it('refuses DROP TABLE with 42501 and the reason, and the session stays usable', async () => {
      const r = await psql(['-A', '-t', '-c', 'DROP TABLE customers', '-c', 'SELECT 40 + 2']);
      expect(r.stderr).toMatch(/ERROR:\s+42501: refused by policy: no rule allows DROP TABLE/);
      expect(r.stdout.trim()).toBe('42');
      expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM customers'))[0].n).toBe('2');
    });

    it('masks a column by its origin (even renamed), by field name and by value', async () => {
      const r = await psql([
        '-A',
        '-t',
        '-F',
        '|',
        '-c',
        'SELECT ssn AS s, password, api_token, notes FROM customers ORDER BY id',
      ]);
      const [ada, bob] = r.stdout.trim().split('\n');
      expect(ada.split('|')).toEqual([
        '[MASKED:column:public.customers.ssn]',
        '[MASKED:field:password]',
        '[MASKED:github-token]',
        'plain note',
      ]);
      expect(bob).toContain('[MASKED:column:public.customers.ssn]');
      expect(bob).toMatch(/deploy with \[MASKED:github-token\] today/);
      expect(r.stdout).not.toContain(plantedToken);
      expect(r.stdout).not.toContain(plantedSsn);
    });

    it('masks COPY TO STDOUT by value, and refuses it where columns must be masked by name', async () => {
      const copy = await psql(['-c', 'COPY (SELECT id, notes FROM customers ORDER BY id) TO STDOUT'], {
        dbname: 'pgcopy',
      });
      expect(copy.stdout).toBe('1\tplain note\n2\tdeploy with [MASKED:github-token] today\n');
      const refused = await psql(['-c', 'COPY customers TO STDOUT'], { dbname: 'pgdb' });
      expect(refused.stderr).toMatch(/0A000: COPY TO STDOUT cannot be masked column by column/);
    });

    it('passes notices through', async () => {
      const r = await psql(['-c', 'DROP TABLE IF EXISTS no_such_table_here'], { dbname: 'pgbench' });
      expect(r.stderr).toMatch(/NOTICE:\s+00000: table "no_such_table_here" does not exist, skipping/);
    });

    it('requires TLS: without it the token is not even asked for', async () => {
      const r = await psql(['-c', 'SELECT 1'], { sslmode: 'disable' });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/only over TLS/);
    });

    it('refuses a wrong token', async () => {
      const r = await psql(['-c', 'SELECT 1'], { password: 'not-a-token' });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/password authentication failed/);
    });
  });

  describe('node-postgres', () => {
    let c: Client;
    beforeAll(async () => {
      c = await pgClient();
    });
    afterAll(async () => {
      await c.end();
    });

    it('runs parameterized queries and named prepared statements', async () => {
      const r = await c.query('SELECT id, name FROM customers WHERE id = $1', [2]);
      expect(r.rows).toEqual([{ id: 2, name: 'Bob' }]);
      for (const id of [1, 2, 1]) {
        const p = await c.query({ name: 'by-id', text: 'SELECT name, ssn FROM customers WHERE id = $1', values: [id] });
        expect(p.rows[0].name).toBe(id === 1 ? 'Ada' : 'Bob');
        expect(p.rows[0].ssn).toBe('[MASKED:column:public.customers.ssn]');
      }
      seen.push(JSON.stringify(r.rows));
    });

    it('rolls a transaction back', async () => {
      await c.query('BEGIN');
      await c.query('INSERT INTO orders (customer_id, amount) VALUES ($1, $2)', [1, 999]);
      expect((await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(51);
      await c.query('ROLLBACK');
      expect((await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(50);
    });

    it('refuses inside a transaction as the server would: the transaction is aborted', async () => {
      await c.query('BEGIN');
      await c.query('UPDATE orders SET amount = amount + 1 WHERE id = 1');
      await expect(c.query('DELETE FROM orders')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('COMMIT');
      expect((await c.query('SELECT amount::int AS a FROM orders WHERE id = 1')).rows[0].a).toBe(1);
      expect((await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(50);
    });

    it('refuses an unbounded UPDATE, a hidden write and a dangerous function, and stays usable', async () => {
      await expect(c.query('UPDATE orders SET amount = 0')).rejects.toMatchObject({ code: '42501' });
      // TRUNCATE empties the table: an unbounded write too, though a rule allows writes to orders.
      await expect(c.query('TRUNCATE orders')).rejects.toMatchObject({ code: '42501' });
      await expect(
        c.query('WITH d AS (DELETE FROM customers WHERE id = 1 RETURNING *) SELECT * FROM d'),
      ).rejects.toMatchObject({
        code: '42501',
      });
      await expect(c.query("SELECT pg_read_file('/etc/passwd')")).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('SELEC 1')).rejects.toMatchObject({ code: '42501' });
      expect((await c.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(2);
    });

    it('cancels a running query', async () => {
      const other = await pgClient();
      const { processID, secretKey } = other as unknown as { processID: number; secretKey: number };
      const slow = other.query('SELECT pg_sleep(30)');
      const failed = slow.then(
        () => null,
        (e: { code?: string }) => e,
      );
      await new Promise((r) => setTimeout(r, 500));
      const key = Buffer.alloc(4);
      key.writeInt32BE(secretKey);
      const s = netConnect({ host: '127.0.0.1', port: sys.pgPort });
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.end(encodeCancelRequest(processID, key));
      const started = Date.now();
      const err = await failed;
      expect(err?.code).toBe('57014');
      expect(Date.now() - started).toBeLessThan(10000);
      expect((await other.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      await other.end();
    });

    it('fails closed when policy does not answer, and the session stays usable', async () => {
      await sys.policy.stop();
      try {
        const started = Date.now();
        await expect(
          c.query('SELECT count(*)::int AS n FROM orders WHERE amount > 12345 AND customer_id < 3'),
        ).rejects.toMatchObject({ code: '57P03' });
        expect(Date.now() - started).toBeLessThan(10000);
      } finally {
        await sys.policy.start();
      }
      const again = await waitFor('policy to answer again', async () => {
        try {
          return (await c.query('SELECT count(*)::int AS n FROM orders WHERE amount > 12345 AND customer_id < 3'))
            .rows[0];
        } catch {
          return undefined;
        }
      });
      expect(again).toEqual({ n: 0 });
    });

    it('shows bind parameters to policy, and does not reuse a decision that depended on them', async () => {
      await expect(c.query('SELECT $1::text AS v', ['forbidden-value-1'])).rejects.toMatchObject({ code: '42501' });
      expect((await c.query('SELECT $1::text AS v', ['fine'])).rows).toEqual([{ v: 'fine' }]);
      await expect(c.query('SELECT $1::text AS v', ['forbidden-value-2'])).rejects.toMatchObject({ code: '42501' });
    });

    it('masks a secret the server echoes in an error', async () => {
      const err = await c.query(`SELECT '${plantedToken}'::int`).then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      expect(err?.code).toBe('22P02');
      expect(err?.message).toContain('[MASKED:github-token]');
      expect(err?.message).not.toContain(plantedToken);
      seen.push(String(err?.message));
    });

    it('signs in upstream over TLS with the certificate checked (verify-full)', async () => {
      const t = await pgClient('pgtls');
      const r = await t.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(r.rows).toEqual([{ ssl: true }]);
      expect((await t.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(2);
      await t.end();
    });

    it('caches decisions: the same statement shape asks policy once, and a read is audited in one event', async () => {
      await c.query('SELECT id FROM orders WHERE id = 7');
      await c.query('SELECT id FROM orders WHERE id = 8');
      const events = await waitFor('both statements in the store', async () => {
        const rows = await sys.db.query<{ event: { data: { decision: { cached: boolean; decision: string } } } }>(
          `SELECT event FROM audit_event
            WHERE type = 'statement.completed'
              AND event #>> '{data,operation,sql}' = 'SELECT id FROM orders WHERE id = $1'
            ORDER BY seq`,
        );
        return rows.length >= 2 ? rows : undefined;
      });
      expect(events.map((e) => e.event.data.decision.decision)).toEqual(['allow', 'allow']);
      expect(events.at(-1)!.event.data.decision.cached).toBe(true);
    });
  });

  describe('extended protocol on the wire', () => {
    it('refuses one Execute of a pipeline: earlier results stand, the rest is skipped to Sync, as the server would', async () => {
      const raw = await RawPgClient.connect(sys.pgPort, 'pgdb', token);
      try {
        raw.send(
          encodeParse('', 'SELECT id, name FROM customers WHERE id = $1', []),
          encodeBind('', '', [Buffer.from('1')]),
          encodeDescribe('P', ''),
          encodeExecute('', 0),
          encodeParse('', 'DELETE FROM customers', []),
          encodeBind('', '', []),
          encodeExecute('', 0),
          encodeParse('', 'SELECT 1', []),
          encodeBind('', '', []),
          encodeExecute('', 0),
          encodeSync(),
        );
        const first = await raw.untilReady();
        expect(typesOf(first)).toBe('12TDC12EZ');
        expect(decodeDataRow(first[3].body).map((v) => v?.toString())).toEqual(['1', 'Ada']);
        const error = decodeErrorFields(first[7].body);
        expect(error.C).toBe('42501');
        expect(error.M).toMatch(/refused by policy/);
        // A masked text column carries its mask in binary too; the columns were never described by the client.
        raw.send(
          encodeParse('by_id', 'SELECT ssn, name FROM customers WHERE id = $1', []),
          encodeBind('', 'by_id', [Buffer.from('2')], [0], [1]),
          encodeExecute('', 0),
          encodeSync(),
        );
        const second = await raw.untilReady();
        expect(typesOf(second)).toBe('12DCZ');
        expect(decodeDataRow(second[2].body)).toEqual([
          Buffer.from('[MASKED:column:public.customers.ssn]'),
          Buffer.from('Bob'),
        ]);
        expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM customers'))[0].n).toBe('2');
      } finally {
        raw.close();
      }
    });
  });

  describe('pgbench', () => {
    const env = () => ({ ...process.env, PGPASSWORD: token, PGSSLMODE: 'require' });
    it('initialises and runs simple, extended and prepared with zero errors', async () => {
      const init = await run('pgbench', ['-i', '-s', '1', conninfo('pgbench')], { env: env(), timeout: 180000 });
      seen.push(init.stdout, init.stderr);
      expect(init.stderr).toMatch(/done in/);
      for (const mode of ['simple', 'extended', 'prepared']) {
        const r = await run('pgbench', ['-n', '-c', '2', '-t', '100', '-M', mode, conninfo('pgbench')], {
          env: env(),
          timeout: 180000,
        });
        seen.push(r.stdout, r.stderr);
        expect(r.stdout).toMatch(/number of transactions actually processed: 200\/200/);
        expect(r.stdout).toMatch(/number of failed transactions: 0 /);
      }
    }, 400000);
  });

  describe('bad input', () => {
    async function rawExchange(bytes: Buffer, opts: { end?: boolean } = {}): Promise<Buffer> {
      const s: Socket = netConnect({ host: '127.0.0.1', port: sys.pgPort });
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.write(bytes);
      if (opts.end) s.end();
      await new Promise<void>((r) => {
        s.once('close', () => r());
        s.once('error', () => r());
        setTimeout(() => {
          s.destroy();
          r();
        }, 15000);
      });
      return Buffer.concat(chunks);
    }

    function errorCode(answer: Buffer): string | undefined {
      if (answer[0] !== 0x45) return undefined;
      const m = /C([0-9A-Z]{5})\0/.exec(answer.toString('latin1'));
      return m?.[1];
    }

    it('answers garbage, oversized, truncated and wrong-version start-ups with an error or a clean close', async () => {
      const survivor = await pgClient();
      const garbage = await rawExchange(randomBytes(64));
      expect(garbage.length === 0 || errorCode(garbage) === '08P01').toBe(true);
      const huge = Buffer.alloc(8);
      huge.writeInt32BE(0x7fffffff, 0);
      huge.writeInt32BE(196608, 4);
      expect(errorCode(await rawExchange(huge))).toBe('08P01');
      const startup = encodeStartupMessage({ user: 'agent', database: 'pgdb' });
      expect((await rawExchange(startup.subarray(0, 10), { end: true })).length).toBe(0);
      const v2 = Buffer.from(startup);
      v2.writeInt32BE(2 << 16, 4);
      expect(errorCode(await rawExchange(v2))).toBe('0A000');
      expect((await survivor.query('SELECT 2 AS two')).rows[0].two).toBe(2);
      await survivor.end();
      expect(sys.ingress.running).toBe(true);
    });

    it('closes a session that sends a malformed message after start-up, and only that one', async () => {
      const victim = await pgClient();
      const survivor = await pgClient();
      // Reach under the client to put a Query with a lying length on the wire.
      const stream = (victim as unknown as { connection: { stream: Socket } }).connection.stream;
      const bad = encodeQuery('SELECT 1');
      bad.writeInt32BE(3, 1);
      const ended = new Promise<void>((r) => victim.once('end', () => r()));
      stream.write(bad);
      await ended;
      expect((await survivor.query('SELECT 3 AS three')).rows[0].three).toBe(3);
      await survivor.end();
      expect(sys.ingress.running).toBe(true);
    });
  });

  describe('audit', () => {
    it('records sessions and statements with decisions, rows and masking counts', async () => {
      const c = await pgClient();
      await c.query('SELECT ssn FROM customers ORDER BY id');
      await c.end();
      const completed = await waitFor('statement.completed with masking in the store', async () => {
        const rows = await sys.db.query<{
          event: { data: { rows: number; rowsMasked: number; masked?: Record<string, number> } };
        }>(
          `SELECT event FROM audit_event WHERE type = 'statement.completed' AND protocol = 'postgres'
              AND (event #>> '{data,command}') = 'SELECT' AND (event #>> '{data,rowsMasked}')::int = 2`,
        );
        return rows.length > 0 ? rows : undefined;
      });
      expect(completed[0].event.data.rows).toBe(2);
      expect(completed[0].event.data.masked?.['column:public.customers.ssn']).toBe(2);
      const types = await waitFor('session events', async () => {
        const rows = await sys.db.query<{ type: string }>(
          `SELECT DISTINCT type FROM audit_event WHERE protocol = 'postgres'`,
        );
        const set = new Set(rows.map((r) => r.type));
        return [
          'session.started',
          'session.ended',
          'operation.intercepted',
          'operation.decided',
          'operation.denied',
          'statement.completed',
          'auth.failed',
        ].every((t) => set.has(t))
          ? set
          : undefined;
      });
      expect(types.size).toBeGreaterThanOrEqual(7);
    });
  });

  it('leaves the upstream password and planted secrets nowhere the agent, Kafka, logs or the audit store can see', async () => {
    const needles = [db.password, bench.password, plantedToken, plantedPassword, plantedSsn];
    // The scanner finds them where they are on purpose: the upstream's own rows.
    const direct = JSON.stringify(await db.query('SELECT * FROM customers'));
    expect(findIn('upstream rows', direct, [plantedToken, plantedPassword, plantedSsn]).length).toBe(3);
    expect(findIn('vault input', JSON.stringify({ p: db.password }), [db.password]).length).toBe(1);

    const scanned = await scanSystem(sys, needles, startedAt);
    expect(scanned.kafkaMessages).toBeGreaterThan(0);
    const answered = seen.flatMap((r) => findIn('agent view', r, needles));
    expect(seen.length).toBeGreaterThan(10);
    expect([...scanned.findings, ...answered]).toEqual([]);
  }, 180000);
});
