import fc from 'fast-check';
import type { AuditEvent } from '@airlock/contracts';
import { SessionTally, upsertParams, type SessionDelta } from './session-tally';

const S1 = '019abcde-0000-7000-8000-0000000000a1';
const S2 = '019abcde-0000-7000-8000-0000000000a0';

function ev(sessionId: string, type: string, time: string, data: unknown, actor = true): AuditEvent {
  return {
    id: '019abcde-0000-7000-8000-000000000001',
    type,
    schemaVersion: 1,
    time,
    sessionId,
    requestId: '019abcde-0000-7000-8000-0000000000b1',
    actor: actor ? { issuer: 'https://idp', subject: 'agent', groups: ['agents'] } : null,
    connection: 'demo',
    protocol: 'postgres',
    source: 'ingress-proxy',
    data,
  } as unknown as AuditEvent;
}

describe('the session tally of a batch', () => {
  it('adds up events, operations, decisions, approvals and masked values per session', () => {
    const t = new SessionTally();
    t.add(ev(S1, 'auth.failed', '2026-11-25T10:00:02.000Z', {}, false));
    t.add(ev(S1, 'operation.intercepted', '2026-11-25T10:00:01.000Z', { operation: { kind: 'http' } }));
    t.add(ev(S1, 'operation.decided', '2026-11-25T10:00:03.000Z', { decision: 'review' }));
    t.add(ev(S1, 'approval.changed', '2026-11-25T10:00:04.000Z', { action: 'approve', to: 'approved' }));
    t.add(ev(S1, 'approval.changed', '2026-11-25T10:00:04.500Z', { action: 'use', to: 'used' }));
    t.add(ev(S1, 'operation.completed', '2026-11-25T10:00:05.000Z', { masked: { secrets: 2, ssn: 3, odd: 'x' } }));
    // A read-only statement audited in one event: it is an operation and carries its decision.
    t.add(
      ev(S2, 'statement.completed', '2026-11-25T09:00:00.000Z', {
        operation: { kind: 'postgres' },
        decision: { decision: 'allow' },
        masked: { secrets: 1 },
      }),
    );
    t.add(ev(S2, 'operation.denied', '2026-11-25T09:00:01.000Z', { reason: 'no' }));
    t.add(ev(S2, 'operation.decided', '2026-11-25T09:00:01.000Z', { decision: 'deny' }));
    const [a, b] = t.deltas();
    expect(a).toMatchObject({
      sessionId: S2,
      firstAt: '2026-11-25T09:00:00.000Z',
      lastAt: '2026-11-25T09:00:01.000Z',
      events: 3,
      operations: 1,
      allowed: 1,
      denied: 1,
      reviewed: 0,
      masked: 1,
    });
    expect(b).toMatchObject({
      sessionId: S1,
      issuer: 'https://idp',
      subject: 'agent',
      connection: 'demo',
      protocol: 'postgres',
      firstAt: '2026-11-25T10:00:01.000Z',
      lastAt: '2026-11-25T10:00:05.000Z',
      events: 6,
      operations: 1,
      reviewed: 1,
      approved: 1,
      masked: 5,
    });
  });

  it('gives the deltas as one JSON array, in session id order, for one statement', () => {
    const t = new SessionTally();
    t.add(ev(S1, 'operation.decided', '2026-11-25T10:00:00.000Z', { decision: 'allow' }));
    t.add(ev(S2, 'operation.decided', '2026-11-25T10:00:00.000Z', { decision: 'allow' }));
    const params = upsertParams(t.deltas());
    expect(params).toHaveLength(1);
    const rows = JSON.parse(params[0]) as SessionDelta[];
    expect(rows.map((r) => r.sessionId)).toEqual([S2, S1]);
    expect(rows.map((r) => r.allowed)).toEqual([1, 1]);
  });

  it('merges the tallies of consecutive parts into the tally of all their events', () => {
    const sessions = [S1, S2, '019abcde-0000-7000-8000-0000000000a2'];
    const types = [
      'operation.intercepted',
      'operation.decided',
      'operation.completed',
      'approval.changed',
      'auth.failed',
    ];
    const event = fc
      .record({
        session: fc.constantFrom(...sessions),
        type: fc.constantFrom(...types),
        ms: fc.integer({ min: 0, max: 10_000 }),
        subject: fc.option(fc.constantFrom('agent-a', 'agent-b'), { nil: null }),
        connection: fc.option(fc.constantFrom('orders', 'billing'), { nil: null }),
        decision: fc.constantFrom('allow', 'deny', 'review'),
        masked: fc.nat(4),
      })
      .map((r) => {
        const e = ev(r.session, r.type, new Date(Date.UTC(2026, 10, 25) + r.ms).toISOString(), {
          decision: r.type === 'operation.decided' ? r.decision : { decision: r.decision },
          operation: { kind: 'http' },
          to: 'approved',
          masked: { secrets: r.masked },
        });
        return {
          ...e,
          actor: r.subject === null ? null : { issuer: `https://${r.subject}`, subject: r.subject, groups: [] },
          connection: r.connection,
        } as AuditEvent;
      });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), fc.array(fc.nat(40), { maxLength: 4 }), (events, cuts) => {
        const whole = new SessionTally();
        for (const e of events) whole.add(e);
        const bounds = [0, ...[...new Set(cuts)].filter((c) => c < events.length).sort((a, b) => a - b), events.length];
        const parts = bounds.slice(1).map((end, i) => {
          const t = new SessionTally();
          for (const e of events.slice(bounds[i], end)) t.add(e);
          return t;
        });
        expect(SessionTally.merged(parts).deltas()).toEqual(whole.deltas());
      }),
    );
  });
});
