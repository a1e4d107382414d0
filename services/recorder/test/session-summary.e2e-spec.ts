import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uuidv7 } from '@airlock/contracts';
import {
  AuditTrafficProducer,
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  freePort,
  queryOnce,
  runId,
  syntheticAuditEvent,
  waitFor,
} from '@airlock/testing';

type SummaryRow = Record<string, unknown>;

const SUMMARY = `SELECT session_id, issuer, subject, connection, protocol, first_at, last_at, events, operations,
                        allowed, denied, reviewed, approved, masked
                   FROM audit_session ORDER BY session_id`;

/**
 * Session summaries on real Kafka and PostgreSQL: kept at ingest batch by batch, and rebuilt from
 * the stored events by the migration that adds them (a store upgraded with events in it) to the
 * same rows. The recorder's role may write summaries but not delete them.
 */
describe('session summaries', () => {
  let idp: TestIdentityProvider;
  let db: TestDatabase;
  let recorder: ServiceProcess;
  let traffic: AuditTrafficProducer;
  let env: Record<string, string>;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    db = await TestDatabase.create('airlock_summary');
    const workDir = mkdtempSync(join(tmpdir(), 'airlock-summary-'));
    env = db.standaloneRecorderEnv(workDir, `test-${runId()}`, idp);
    recorder = await new ServiceProcess('recorder', await freePort(), env).start();
    traffic = new AuditTrafficProducer();
    await traffic.connect();
  });

  afterAll(async () => {
    await traffic?.disconnect();
    await recorder?.stop();
    await idp?.stop();
    await db?.drop();
  });

  it('adds every batch to its sessions, and the migration rebuilds the same summaries from the events', async () => {
    const sessions = Array.from({ length: 7 }, () => uuidv7());
    const now = Date.now();
    // Several sends: the recorder sees several batches of the same sessions.
    for (let round = 0; round < 4; round++) {
      await traffic.send(
        Array.from({ length: 60 }, (_, i) =>
          syntheticAuditEvent(sessions[i % sessions.length], {
            at: now - 60_000 + round * 1000 + i,
            subject: `agent-${i % sessions.length}`,
          }),
        ),
      );
    }
    await waitFor(
      'every event summarised',
      async () => {
        const [r] = await db.query<{ n: string }>('SELECT coalesce(sum(events), 0) AS n FROM audit_session');
        return Number(r.n) === 240 || undefined;
      },
      { timeoutMs: 30_000 },
    );
    const atIngest = await db.query<SummaryRow>(SUMMARY);
    expect(atIngest).toHaveLength(7);
    for (const row of atIngest) {
      expect(row).toMatchObject({ connection: 'demo', protocol: 'http', issuer: 'https://idp.test' });
      expect(Number(row.events)).toBeGreaterThan(30);
      expect(row.masked).toBe(row.events);
    }

    // The recorder's role adds and updates summaries, and cannot delete them.
    await expect(queryOnce(db.recorderUrl, 'DELETE FROM audit_session')).rejects.toThrow(/permission denied/);

    // An upgrade: the summaries are not there yet, the events are.
    await recorder.stop();
    await db.query('DROP TABLE audit_session');
    await db.query(`DELETE FROM recorder_migrations WHERE name = 'AuditSessionSummary1796600000000'`);
    recorder = await new ServiceProcess('recorder', await freePort(), env).start();
    expect(await db.query<SummaryRow>(SUMMARY)).toEqual(atIngest);
  });
});
