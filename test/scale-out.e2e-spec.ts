import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@airlock/contracts';
import { kafkaClientConfig, waitFor, type ServiceProcess } from '@airlock/testing';
import { sampleValue, scrape } from './support/observability';
import { TestSystem } from './support/system';

/** The members of a consumer group and the audit partitions each holds. */
async function auditAssignments(groupId: string): Promise<number[][]> {
  const admin = new Kafka({ ...kafkaClientConfig('airlock-test-groups'), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    if (group.state !== 'Stable') return [];
    const { AssignerProtocol } = await import('kafkajs');
    return group.members.map((m) => {
      const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      return [...(assignment?.assignment[Topics.Audit] ?? [])].sort((a, b) => a - b);
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Two ingress instances and two recorders on the same Kafka: requests spread over both
 * ingresses, the audit topic's partitions shared by the recorders' consumer group, and every
 * operation stored exactly once, whichever instance served or stored it.
 */
describe('scale-out: two ingresses and two recorders', () => {
  const sys = new TestSystem();
  const tag = randomBytes(5).toString('hex');
  let ingress2: ServiceProcess;
  let recorder2: ServiceProcess;
  const N = 60;

  beforeAll(async () => {
    await sys.start();
    recorder2 = await sys.startReplica('recorder');
    ingress2 = await sys.startReplica('ingress-proxy');
  }, 240000);

  afterAll(async () => {
    await sys.stop();
  }, 90000);

  it('shares the audit partitions between the recorders (6 partitions, per-partition chains)', async () => {
    const assignments = await waitFor(
      'the recorder group to settle with two members',
      async () => {
        const a = await auditAssignments(`${sys.groupPrefix}-recorder`);
        return a.length === 2 && a.every((p) => p.length > 0) ? a : undefined;
      },
      { timeoutMs: 60000, intervalMs: 500 },
    );
    const all = assignments.flat().sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('spreads requests over both ingresses and stores every operation exactly once, by both recorders', async () => {
    const recorders = [sys.recorder, recorder2];
    const ingresses = [sys.ingress, ingress2];
    const before = await Promise.all([...recorders, ...ingresses].map((p) => scrape(p.url)));
    const token = await sys.token();

    const requestIds: string[] = [];
    const served = [0, 0];
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const via = i % 2;
        const res = await fetch(`${ingresses[via].url}/c/demo/items/${tag}-${i}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        requestIds.push(res.headers.get('x-airlock-request-id')!);
        served[via]++;
      }),
    );
    expect(new Set(requestIds).size).toBe(N);

    // Every operation's one event is in the store, once, whoever stored it.
    const counts = await waitFor(
      `the ${N} operations in the store`,
      async () => {
        const rows = await sys.db.query<{ request_id: string; n: string; ids: string }>(
          `SELECT request_id, count(*) AS n, count(DISTINCT id) AS ids FROM audit_event
           WHERE request_id = ANY($1) AND type = 'operation.completed' GROUP BY request_id`,
          [requestIds],
        );
        return rows.length === N ? rows : undefined;
      },
      { timeoutMs: 30000, intervalMs: 250 },
    );
    expect(counts.every((r) => r.n === '1' && r.ids === '1')).toBe(true);

    const after = await Promise.all([...recorders, ...ingresses].map((p) => scrape(p.url)));
    const moved = (i: number, name: string, labels: Record<string, string> = {}): number =>
      sampleValue(after[i], name, labels) - sampleValue(before[i], name, labels);
    // Both ingresses served half, and counted what they served.
    expect(served).toEqual([N / 2, N / 2]);
    for (const i of [2, 3]) {
      expect(moved(i, 'airlock_ingress_operations_total', { connection: 'demo', outcome: 'completed' })).toBe(N / 2);
    }
    // Both recorders stored some, together all of them, and nothing twice.
    const stored = [0, 1].map((i) => moved(i, 'airlock_recorder_events_stored_total'));
    expect(stored[0]).toBeGreaterThan(0);
    expect(stored[1]).toBeGreaterThan(0);
    expect(stored[0] + stored[1]).toBeGreaterThanOrEqual(N);
    const [dup] = await sys.db.query<{ n: string; ids: string }>(
      'SELECT count(*) AS n, count(DISTINCT id) AS ids FROM audit_event',
    );
    expect(dup.n).toBe(dup.ids);
  });
});
