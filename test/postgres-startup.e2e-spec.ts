import type { TLSSocket } from 'node:tls';
import { Client } from 'pg';
import {
  BackendType,
  MessageReader,
  decodeErrorFields,
  encodePasswordMessage,
  encodeQuery,
  encodeStartupMessage,
  type Frame,
} from '@airlock/pg-wire';
import { PgUpstreamDatabase, waitFor } from '@airlock/testing';
import { openGatewayTls } from './support/pg-raw';
import { TestSystem } from './support/system';

const STARTUP_TIMEOUT_MS = 3000;

/** A client over TLS that drives the start-up by hand, message by message, at its own pace. */
class HandStartup {
  private readonly reader = new MessageReader();
  readonly frames: Frame[] = [];
  closedAt: number | null = null;
  readonly openedAt = Date.now();

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => this.frames.push(...this.reader.push(chunk)));
    socket.on('close', () => (this.closedAt ??= Date.now()));
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<HandStartup> {
    const socket = await openGatewayTls(port);
    return new HandStartup(socket);
  }

  send(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The first message of `type`, polled with a deadline. */
  waitFrame(type: number, what: string, timeoutMs = 15000): Promise<Frame> {
    return waitFor(what, () => this.frames.find((f) => f.type === type), { timeoutMs, intervalMs: 20 });
  }

  error(): Promise<Record<string, string>> {
    return this.waitFrame(BackendType.ErrorResponse, 'an ErrorResponse').then((f) => decodeErrorFields(f.body));
  }

  closed(): Promise<number> {
    return waitFor('the gateway to close the connection', () => this.closedAt ?? undefined, { intervalMs: 20 });
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * The PostgreSQL listener's start-up: policy is asked whether the principal may use the
 * connection at all before a lease is taken or an upstream session opened; sessions are capped
 * per principal and per connection; everything before authentication is small and has one deadline.
 */
describe('PostgreSQL start-up checks', () => {
  const sys = new TestSystem();
  let db: PgUpstreamDatabase;
  let agent: string;

  async function pgClient(password: string, extra: Record<string, unknown> = {}): Promise<Client> {
    const c = new Client({
      host: '127.0.0.1',
      port: sys.pgPort,
      database: 'pgdb',
      user: 'agent',
      password,
      ssl: { rejectUnauthorized: false },
      ...extra,
    });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  function refusal(password: string): Promise<{ code?: string; message: string; severity?: string }> {
    return pgClient(password).then(
      async (c) => {
        await c.end();
        return { message: 'connected' };
      },
      (e: Error & { code?: string; severity?: string }) => ({ code: e.code, message: e.message, severity: e.severity }),
    );
  }

  /** Sessions ever opened on the upstream database (asked from another database, so as not to count itself). */
  async function upstreamSessionsEver(): Promise<number> {
    const [r] = await sys.db.query<{ n: number }>(
      'SELECT sessions::int AS n FROM pg_stat_database WHERE datname = $1',
      [db.database],
    );
    return r.n;
  }

  async function upstreamSessionsNow(): Promise<number> {
    const [r] = await sys.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND datname = $2',
      [db.user, db.database],
    );
    return r.n;
  }

  /** statement.failed events of session starts refused for `subject` (no session: the gateway's own answer). */
  function refusedStarts(subject: string, sqlstate: string): Promise<Array<{ stage: string; reason: string }>> {
    return waitFor(`statement.failed ${sqlstate} of ${subject} in the audit store`, async () => {
      const rows = await sys.db.query<{ event: { data: { stage: string; reason: string } } }>(
        `SELECT event FROM audit_event WHERE type = 'statement.failed' AND protocol = 'postgres'
          AND event #>> '{actor,subject}' = $1 AND event #>> '{data,sqlstate}' = $2`,
        [subject, sqlstate],
      );
      return rows.length > 0 ? rows.map((r) => r.event.data) : undefined;
    });
  }

  beforeAll(async () => {
    await sys.start({
      postgres: true,
      ingressEnv: {
        PG_MAX_SESSIONS_PER_PRINCIPAL: '2',
        PG_MAX_SESSIONS_PER_CONNECTION: '3',
        PG_STARTUP_TIMEOUT_MS: String(STARTUP_TIMEOUT_MS),
      },
    });
    db = await PgUpstreamDatabase.create('airlock_startup_up');
    await sys.addPgConnection('pgdb', db);
    agent = await sys.token('agent-startup', ['agents']);
  }, 240000);

  afterAll(async () => {
    await sys.stop();
    await db?.drop();
  }, 60000);

  it('refuses a principal no rule lets use the connection with 28000, without opening an upstream session', async () => {
    // The counter does count sessions the gateway opens: one allowed session moves it by one.
    const before = await upstreamSessionsEver();
    const control = await pgClient(agent);
    expect((await control.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await control.end();
    await waitFor('the control session in the counter', async () => (await upstreamSessionsEver()) === before + 1);

    const outsider = await sys.token('outsider-startup', ['outsiders']);
    const openNow = await upstreamSessionsNow();
    const counted = await upstreamSessionsEver();
    for (let i = 0; i < 3; i++) {
      const r = await refusal(outsider);
      expect(r).toMatchObject({
        code: '28000',
        severity: 'FATAL',
        message: 'access to connection "pgdb" refused by policy: no rule lets outsider-startup use connection pgdb',
      });
      expect(await upstreamSessionsNow()).toBe(openNow);
    }
    // A second control session after the refusals: the counter moves by it alone.
    const again = await pgClient(agent);
    await again.query('SELECT 1');
    await again.end();
    await waitFor('the second control session in the counter', async () => (await upstreamSessionsEver()) > counted);
    expect(await upstreamSessionsEver()).toBe(counted + 1);

    const audited = await waitFor('the refusal in the audit store', async () => {
      const rows = await sys.db.query<{
        event: { actor: { subject: string } | null; connection: string; data: Record<string, string> };
      }>(
        `SELECT event FROM audit_event WHERE type = 'auth.failed' AND protocol = 'postgres'
          AND event #>> '{actor,subject}' = 'outsider-startup'`,
      );
      return rows.length >= 3 ? rows : undefined;
    });
    expect(audited[0].event.connection).toBe('pgdb');
    expect(audited[0].event.data).toMatchObject({
      code: 'forbidden',
      reason: 'access to connection "pgdb" refused by policy: no rule lets outsider-startup use connection pgdb',
      policyVersion: expect.any(String),
    });
  });

  it('fails closed with 57P03 when policy does not answer a session start', async () => {
    const stranger = await sys.token('fresh-startup', ['agents']);
    await sys.policy.stop();
    try {
      const started = Date.now();
      const r = await refusal(stranger);
      expect(r).toMatchObject({
        code: '57P03',
        message: expect.stringMatching(/^the policy service .*session refused$/),
      });
      expect(Date.now() - started).toBeLessThan(10000);
    } finally {
      await sys.policy.start();
    }
    const c = await waitFor('policy to admit sessions again', () => pgClient(stranger).catch(() => undefined), {
      timeoutMs: 60000,
      intervalMs: 500,
    });
    await c.end();
    expect((await refusedStarts('fresh-startup', '57P03'))[0]).toMatchObject({
      stage: 'policy',
      reason: expect.stringMatching(/^the policy service .*session refused$/),
    });
  });

  it('caps sessions per principal and per connection with 53300, and frees a slot when a session ends', async () => {
    const other = await sys.token('second-startup', ['agents']);
    const mine = [await pgClient(agent), await pgClient(agent)];
    const third = await refusal(agent);
    expect(third).toMatchObject({
      code: '53300',
      message: 'too many sessions for agent-startup: at most 2 at once through this gateway',
    });
    const theirs = [await pgClient(other)];
    expect(await refusal(other)).toMatchObject({
      code: '53300',
      message: 'too many sessions on connection "pgdb": at most 3 at once through this gateway',
    });
    await mine[0].end();
    const freed = await waitFor('a freed slot', () => pgClient(other).catch(() => undefined));
    expect((await freed.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    await Promise.all([mine[1].end(), freed.end(), ...theirs.map((c) => c.end())]);
    // Every slot comes back: the principal can hold its two sessions again.
    const back = await waitFor('both slots back', async () => {
      const cs = await Promise.all([pgClient(agent), pgClient(agent)].map((p) => p.catch(() => undefined)));
      if (cs.every(Boolean)) return cs as Client[];
      await Promise.all(cs.map((c) => c?.end()));
      return undefined;
    });
    await Promise.all(back.map((c) => c.end()));
    // (The polls above may have been refused too while slots were still coming back.)
    expect(await refusedStarts('agent-startup', '53300')).toContainEqual({
      stage: 'routing',
      reason: 'too many sessions for agent-startup: at most 2 at once through this gateway',
      sqlstate: '53300',
    });
  });

  it('refuses an oversized password message from its header, before reading its body', async () => {
    const c = await HandStartup.open(sys.pgPort);
    try {
      c.send(encodeStartupMessage({ user: 'agent', database: 'pgdb' }));
      await c.waitFrame(BackendType.Authentication, 'the password request');
      const header = Buffer.alloc(5);
      header[0] = 0x70;
      header.writeInt32BE(32 * 1024 * 1024, 1);
      const sent = Date.now();
      c.send(Buffer.concat([header, Buffer.alloc(1024, 0x61)]));
      expect(await c.error()).toMatchObject({
        S: 'FATAL',
        C: '08P01',
        M: expect.stringMatching(
          /^a message of 33554432 bytes before authentication: the gateway accepts at most 16384 bytes/,
        ),
      });
      expect((await c.closed()) - sent).toBeLessThan(STARTUP_TIMEOUT_MS);
    } finally {
      c.close();
    }
  });

  it('gives the whole start-up one deadline: a client that takes its time at each step is closed with FATAL', async () => {
    const c = await HandStartup.open(sys.pgPort);
    try {
      // Each step waits less than the deadline; all of them together take longer.
      await new Promise((r) => setTimeout(r, STARTUP_TIMEOUT_MS * 0.6));
      c.send(encodeStartupMessage({ user: 'agent', database: 'pgdb' }));
      await c.waitFrame(BackendType.Authentication, 'the password request');
      const late = setTimeout(() => c.send(encodePasswordMessage(agent)), STARTUP_TIMEOUT_MS * 0.6);
      try {
        expect(await c.error()).toEqual(
          expect.objectContaining({
            S: 'FATAL',
            C: '08P01',
            M: `the start-up did not complete within ${STARTUP_TIMEOUT_MS} ms; the connection is closed`,
          }),
        );
        const closedAt = await c.closed();
        expect(closedAt - c.openedAt).toBeLessThan(STARTUP_TIMEOUT_MS + 1500);
        expect(c.frames.some((f) => f.type === BackendType.ReadyForQuery)).toBe(false);
      } finally {
        clearTimeout(late);
      }
    } finally {
      c.close();
    }
  });

  it("takes client_encoding as PostgreSQL does (asyncpg sends 'utf-8' quoted) and runs the session in UTF8", async () => {
    const c = await HandStartup.open(sys.pgPort);
    try {
      c.send(encodeStartupMessage({ user: 'agent', database: 'pgdb', client_encoding: "'utf-8'" }));
      await c.waitFrame(BackendType.Authentication, 'the password request');
      c.send(encodePasswordMessage(agent));
      await c.waitFrame(BackendType.ReadyForQuery, 'the session to be ready');
      c.send(encodeQuery('SHOW client_encoding'));
      const row = await c.waitFrame(BackendType.DataRow, 'the SHOW result');
      expect(row.body.subarray(6).toString()).toBe('UTF8');
    } finally {
      c.close();
    }
    const latin = await HandStartup.open(sys.pgPort);
    try {
      latin.send(encodeStartupMessage({ user: 'agent', database: 'pgdb', client_encoding: 'LATIN1' }));
      expect(await latin.error()).toMatchObject({
        C: '0A000',
        M: 'the gateway speaks UTF8 only: set client_encoding to UTF8',
      });
    } finally {
      latin.close();
    }
  });
});
