import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditTrafficProducer,
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  freePort,
  runId,
  syntheticAuditEvent,
  waitFor,
} from '@airlock/testing';
import { uuidv7 } from '@airlock/contracts';
import type { PipelineStats } from '../src/pipelines/pipeline-reports';
import { expectChainsVerify, expectSessionsInOrder } from './stored-streams';

const SESSIONS = 200;
const BACKLOG = 20_000;

/**
 * A recorder with two audit pipelines (RECORDER_PIPELINES=2: the main thread's and a worker
 * thread's, each a consumer of the group with its own windows and transactions), on real Kafka
 * and PostgreSQL: a backlog stored exactly once and in order, the process's figures adding up
 * both pipelines, and a stop that stores what both read.
 */
describe('a recorder with two audit pipelines', () => {
  let idp: TestIdentityProvider;
  let db: TestDatabase;
  let recorder: ServiceProcess;
  let traffic: AuditTrafficProducer;
  const sessions = Array.from({ length: SESSIONS }, () => uuidv7());
  const sent = new Map<string, string[]>(sessions.map((s) => [s, []]));

  async function produce(n: number): Promise<void> {
    for (let done = 0; done < n; done += 1000) {
      const events = Array.from({ length: Math.min(1000, n - done) }, (_, i) => {
        const session = sessions[(done + i) % SESSIONS];
        const e = syntheticAuditEvent(session);
        sent.get(session)?.push(e.id);
        return e;
      });
      await traffic.send(events);
    }
  }

  async function storedOfOurs(): Promise<number> {
    const [r] = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM audit_event WHERE session_id = ANY($1::uuid[])',
      [sessions],
    );
    return Number(r.n);
  }

  async function waitAllStored(): Promise<void> {
    const total = [...sent.values()].reduce((n, ids) => n + ids.length, 0);
    await waitFor(`all ${total} events stored`, async () => (await storedOfOurs()) >= total || undefined, {
      timeoutMs: 180_000,
      intervalMs: 500,
    });
  }

  /** Every event sent stored once, each session in the order it was sent, and every chain verifies. */
  async function expectExactlyOnceInOrder(): Promise<void> {
    const total = [...sent.values()].reduce((n, ids) => n + ids.length, 0);
    const [counts] = await db.query<{ rows: string; ids: string }>(
      'SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM audit_event WHERE session_id = ANY($1::uuid[])',
      [sessions],
    );
    expect({ rows: Number(counts.rows), ids: Number(counts.ids) }).toEqual({ rows: total, ids: total });
    await expectSessionsInOrder(db, sent);
    await expectChainsVerify(recorder, db, idp);
  }

  const getJson = async <T>(path: string): Promise<T> => (await (await fetch(`${recorder.url}${path}`)).json()) as T;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    db = await TestDatabase.create('airlock_pipelines');
    traffic = new AuditTrafficProducer();
    await traffic.connect();
    const workDir = mkdtempSync(join(tmpdir(), 'airlock-pipelines-'));
    recorder = new ServiceProcess('recorder', await freePort(), {
      ...db.standaloneRecorderEnv(workDir, `test-${runId()}`, idp),
      RECORDER_PIPELINES: '2',
      AUDIT_CHECKPOINT_INTERVAL_MS: '1000',
    });
    // The group's first start records from the end of the stream; a backlog then waits for the
    // next start, so both pipelines have work from the first fetch.
    await recorder.start();
    await recorder.stop(40_000);
    await produce(BACKLOG);
    await recorder.start();
  }, 180_000);

  afterAll(async () => {
    await traffic?.disconnect();
    await recorder?.stop(40_000);
    await idp?.stop();
    await db?.drop();
  });

  it('stores a backlog exactly once and in order, both pipelines sharing it, and every chain verifies', async () => {
    await waitAllStored();
    await expectExactlyOnceInOrder();
    // Both joined the group before either read: the backlog is shared.
    const pipelines = await getJson<PipelineStats[]>('/audit/pipelines');
    expect(pipelines.map((p) => p.stored > 0)).toEqual([true, true]);
    expect(pipelines.reduce((n, p) => n + p.redelivered, 0)).toBe(0);
    // The second pipeline's log lines say which it is.
    expect(recorder.logs).toMatch(/"pipeline":1,/);
  }, 240_000);

  it('adds up both pipelines in its counters, its latency record and its metrics, and is ready while both run', async () => {
    // Both pipelines hold partitions now: new events reach both.
    await produce(5_000);
    await waitAllStored();
    const both = await getJson<PipelineStats[]>('/audit/pipelines');
    expect(both.map((p) => p.stored > 0)).toEqual([true, true]);
    // Settled: nothing more arrives while the three are read.
    let stats = await getJson<PipelineStats>('/audit/stats');
    await waitFor(
      'the recorder to be idle',
      async () => {
        await new Promise((r) => setTimeout(r, 1500));
        const again = await getJson<PipelineStats>('/audit/stats');
        const idle = again.received === stats.received && again.stored === stats.stored;
        stats = again;
        return idle || undefined;
      },
      { timeoutMs: 60_000 },
    );
    const pipelines = await getJson<PipelineStats[]>('/audit/pipelines');
    for (const key of ['received', 'stored', 'batches', 'redelivered'] as const) {
      expect(stats[key]).toBe(pipelines[0][key] + pipelines[1][key]);
    }
    const latency = await getJson<{ ms: Record<string, number>; beyond: number }>('/audit/latency');
    const counted = Object.values(latency.ms).reduce((n, c) => n + c, latency.beyond);
    // Every event of a stored window is counted once there, a redelivered one too.
    expect(counted).toBeGreaterThanOrEqual(stats.stored);
    expect(counted).toBeLessThanOrEqual(stats.stored + stats.duplicates + stats.redelivered);
    const metrics = await (await fetch(`${recorder.url}/metrics`)).text();
    const stored = /^airlock_recorder_events_stored_total\{service="recorder"\} (\d+)$/m.exec(metrics);
    expect(Number(stored?.[1])).toBe(stats.stored);
    expect(metrics).not.toMatch(/^airlock_recorder_events_stored_total \d+$/m);
    // One process: its own series once.
    expect(metrics.match(/^airlock_process_cpu_seconds_total/gm)).toHaveLength(1);
    const health = await fetch(`${recorder.url}/health`);
    expect(health.status).toBe(200);
  }, 120_000);

  it('stores, when stopped mid-stream, what both pipelines read, and after a restart the rest, exactly once', async () => {
    const before = (await getJson<PipelineStats>('/audit/stats')).received;
    const streaming = produce(20_000);
    await waitFor(
      'both pipelines to be reading the stream',
      async () => {
        const now = await getJson<PipelineStats[]>('/audit/pipelines');
        return (
          (now.reduce((n, p) => n + p.received, 0) > before + 2_000 && now.every((p) => p.received > 0)) || undefined
        );
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const storing = await getJson<PipelineStats[]>('/audit/pipelines');
    await recorder.stop(40_000);
    expect(recorder.running).toBe(false);
    expect(storing.map((p) => p.received > 0)).toEqual([true, true]);
    expect(recorder.logs).not.toContain('did not stop within');
    expect(recorder.logs).not.toContain('did not stop cleanly');
    await streaming;
    await recorder.start();
    await waitAllStored();
    await expectExactlyOnceInOrder();
  }, 300_000);
});
