import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditTrafficProducer,
  LocalKafka,
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  freePort,
  runId,
  syntheticAuditEvent,
  waitFor,
} from '@airlock/testing';
import { uuidv7 } from '@airlock/contracts';
import { expectChainsVerify, expectSessionsInOrder } from './stored-streams';

/** At least this many events; more when the disruptions take longer than the stream. */
const MIN_TOTAL = 50_000;
const BATCH = 250;
const SESSIONS = 500;

/**
 * Nothing lost, nothing doubled: a steady stream of audit events while the recorder is killed
 * (kill -9) twice and the Kafka broker once. At the end the store holds every acknowledged event
 * exactly once, each session in the order it was sent, and every chain verifies. With one audit
 * pipeline (the default) and with two (RECORDER_PIPELINES=2: a kill -9 ends both threads at once).
 */
describe.each([1, 2])('the audit store under crashes, with %i audit pipeline(s)', (pipelines) => {
  let idp: TestIdentityProvider;
  let db: TestDatabase;
  let recorder: ServiceProcess;
  let traffic: AuditTrafficProducer;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    db = await TestDatabase.create('airlock_durability');
    const workDir = mkdtempSync(join(tmpdir(), 'airlock-durability-'));
    recorder = new ServiceProcess('recorder', await freePort(), {
      ...db.standaloneRecorderEnv(workDir, `test-${runId()}`, idp),
      AUDIT_CHECKPOINT_INTERVAL_MS: '1000',
      RECORDER_PIPELINES: String(pipelines),
    });
    await recorder.start();
    traffic = new AuditTrafficProducer();
    await traffic.connect();
  });

  afterAll(async () => {
    await traffic?.disconnect();
    await recorder?.stop();
    await idp?.stop();
    await db?.drop();
  });

  it('stores every event exactly once, in order per session, across two recorder crashes and a broker crash', async () => {
    const sessions = Array.from({ length: SESSIONS }, () => uuidv7());
    const sent = new Map<string, string[]>(sessions.map((s) => [s, []]));
    const disruptions: { at: number; what: string; ms: number }[] = [];
    let produced = 0;
    let next = 0;
    let inFlight: Promise<void> | undefined;
    const disrupt = (what: string, act: () => Promise<void>): Promise<void> => {
      const at = produced;
      const began = Date.now();
      return act().then(() => void disruptions.push({ at, what, ms: Date.now() - began }));
    };
    const restartRecorder = async (): Promise<void> => {
      await recorder.kill();
      await recorder.start();
    };
    const restartBroker = async (): Promise<void> => {
      await LocalKafka.kill9();
      await LocalKafka.start();
    };
    // One at a time, each after the one before has recovered.
    const plan: [number, string, () => Promise<void>][] = [
      [10_000, 'recorder killed (-9) and restarted', restartRecorder],
      [20_000, 'recorder killed (-9) and restarted', restartRecorder],
      [30_000, 'broker killed (-9) and restarted', restartBroker],
    ];
    const started = Date.now();
    while (produced < MIN_TOTAL || next < plan.length || inFlight) {
      // The producer keeps going while the recorder is down; a broker outage holds it (retries).
      if (!inFlight && next < plan.length && produced >= plan[next][0]) {
        const [, what, act] = plan[next++];
        inFlight = disrupt(what, act).finally(() => (inFlight = undefined));
      }
      const events = Array.from({ length: BATCH }, (_, i) => {
        const session = sessions[(produced + i) % SESSIONS];
        const e = syntheticAuditEvent(session);
        sent.get(session)?.push(e.id);
        return e;
      });
      await traffic.send(events);
      produced += BATCH;
      await new Promise((r) => setTimeout(r, 100));
    }
    const produceSeconds = (Date.now() - started) / 1000;
    await inFlight;
    await waitFor('the recorder to be back', async () => recorder.running || undefined, { timeoutMs: 60_000 });

    const acknowledged = [...traffic.acknowledged];
    const TOTAL = produced;
    expect(acknowledged.length).toBe(TOTAL);
    await waitFor(
      `all ${TOTAL} events stored`,
      async () => {
        const [r] = await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM audit_event WHERE session_id = ANY($1::uuid[])',
          [sessions],
        );
        return Number(r.n) >= TOTAL || undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );

    // Exactly once: every acknowledged id, and nothing else (the id is the key: no id twice).
    // (Other tests' traffic on the topic lands here too: count this stream's sessions only.)
    const [counts] = await db.query<{ total: string; ours: string }>(
      `SELECT count(*) FILTER (WHERE session_id = ANY($2::uuid[])) AS total,
              count(*) FILTER (WHERE id = ANY($1::uuid[])) AS ours FROM audit_event`,
      [acknowledged, sessions],
    );
    expect({ total: Number(counts.total), ours: Number(counts.ours) }).toEqual({ total: TOTAL, ours: TOTAL });

    // In order within each session: the chain's order is the order the events were sent.
    await expectSessionsInOrder(db, sent);
    // Every chain verifies, end to end, including its signed checkpoint.
    await expectChainsVerify(recorder, db, idp);

    const stats = (await (await fetch(`${recorder.url}/audit/stats`)).json()) as Record<string, number>;
    process.stdout.write(
      `durability (${pipelines} pipelines): ${TOTAL} events in ${produceSeconds.toFixed(1)} s, ${traffic.sendFailures} failed sends retried, ` +
        `disruptions ${JSON.stringify(disruptions)}, last recorder's counters ${JSON.stringify(stats)}\n`,
    );
    expect(disruptions.map((d) => d.what)).toHaveLength(3);
  }, 600_000);
});
