import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PgUpstreamDatabase, localPgServerCertFile, waitFor } from '@airlock/testing';
import { TestSystem } from './support/system';

interface ReplayedEvent {
  type: string;
  data: Record<string, unknown>;
}

/**
 * What an agent sends can never make one of its own audit events unstorable: every event the
 * ingress publishes about a session reaches the recorder's store.
 */
describe('audit events made of hostile client text', () => {
  const sys = new TestSystem();
  const tag = randomBytes(4).toString('hex');
  let db: PgUpstreamDatabase;
  let token: string;
  let auditorToken: string;

  beforeAll(async () => {
    await sys.start({ postgres: true, pgUpstreamCaFile: localPgServerCertFile() });
    db = await PgUpstreamDatabase.create('airlock_acceptance');
    await sys.addPgConnection('pgdb', db);
    token = await sys.token();
    auditorToken = await sys.token('auditor-e2e', ['airlock-auditors']);
  }, 240000);

  afterAll(async () => {
    await sys.stop();
    await db?.drop();
  }, 60000);

  async function replay(sessionId: string): Promise<ReplayedEvent[]> {
    const res = await fetch(`${sys.recorder.url}/audit/sessions/${sessionId}/events?limit=100`, {
      headers: { authorization: `Bearer ${auditorToken}` },
    });
    if (res.status !== 200) return [];
    const body = (await res.json()) as { items: { event: ReplayedEvent }[] };
    return body.items.map((i) => i.event);
  }

  it('stores session.started when application_name ends in an astral character across the 64-unit limit', async () => {
    // 63 ASCII characters and an emoji (two UTF-16 units): a cut at 64 units splits the pair.
    const prefix = `acc-${tag}-`.padEnd(63, 'a');
    const applicationName = `${prefix}\u{1F600}`;
    const c = new Client({
      host: '127.0.0.1',
      port: sys.pgPort,
      database: 'pgdb',
      user: 'agent',
      password: token,
      ssl: { rejectUnauthorized: false },
      application_name: applicationName,
    });
    c.on('error', () => undefined);
    await c.connect();
    await c.query(`SELECT 1 AS acc_${tag}`);
    await c.end();

    // The statement's event names the session; the session's events come before it on one partition.
    const sessionId = await waitFor('the statement of the session in the store', async () => {
      const rows = await sys.db.query<{ session_id: string }>(
        `SELECT session_id FROM audit_event WHERE type = 'statement.completed' AND event::text LIKE $1`,
        [`%acc_${tag}%`],
      );
      return rows[0]?.session_id;
    });
    const events = await waitFor(
      'session.started and session.ended of the session, through the replay API',
      async () => {
        const evs = await replay(sessionId);
        const types = new Set(evs.map((e) => e.type));
        return types.has('session.ended') && types.has('session.started') ? evs : undefined;
      },
      { timeoutMs: 15000 },
    );
    const started = events.find((e) => e.type === 'session.started')!;
    // Cut at a code point: the emoji does not fit in 64 units, and no half of it is left.
    expect(started.data.applicationName).toBe(prefix);
  }, 60000);
});
