import type { ServiceProcess, TestDatabase, TestIdentityProvider } from '@airlock/testing';
import type { VerifyReport } from '../src/integrity/verify';

/** Each session's events are stored in the order they were sent (`sent`: event ids by session). */
export async function expectSessionsInOrder(db: TestDatabase, sent: Map<string, string[]>): Promise<void> {
  const sessions = [...sent.keys()];
  const stored = await db.query<{ session_id: string; ids: string[] }>(
    'SELECT session_id, array_agg(id ORDER BY seq) AS ids FROM audit_event WHERE session_id = ANY($1::uuid[]) GROUP BY session_id',
    [sessions],
  );
  const outOfOrder = stored.filter((s) => JSON.stringify(s.ids) !== JSON.stringify(sent.get(s.session_id)));
  expect({ sessions: stored.length, outOfOrder: outOfOrder.length }).toEqual({
    sessions: sessions.length,
    outOfOrder: 0,
  });
}

/** Every chain verifies end to end (its signed checkpoint included), over every row stored. */
export async function expectChainsVerify(
  recorder: ServiceProcess,
  db: TestDatabase,
  idp: TestIdentityProvider,
): Promise<void> {
  const auditor = await idp.sign({ sub: 'auditor-e2e', groups: ['airlock-auditors'] });
  const res = await fetch(`${recorder.url}/audit/verify`, { headers: { authorization: `Bearer ${auditor}` } });
  const report = (await res.json()) as VerifyReport;
  expect(report.ok).toBe(true);
  const [all] = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_event');
  expect(report.chains.reduce((n, c) => n + c.verified, 0)).toBe(Number(all.n));
}
