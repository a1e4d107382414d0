import type { ApprovalDecided, ApprovalReply, ApprovalRequest } from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import { ApprovalWaiters } from './approval-waiters';
import { ApprovalUnavailableError, holdForApproval, type HoldOptions } from './hold';

const A = '00000000-0000-7000-8000-00000000000a';
const B = '00000000-0000-7000-8000-00000000000b';

const request: ApprovalRequest = {
  requestId: '00000000-0000-7000-8000-000000000001',
  sessionId: '00000000-0000-7000-8000-000000000002',
  principal: { issuer: 'https://idp', subject: 'bot', groups: ['agents'] },
  connection: 'demo',
  protocol: 'http',
  operation: { kind: 'http', method: 'DELETE', path: '/items/1' },
  fingerprint: 'f'.repeat(64),
  reason: 'needs a person',
  rules: { approverGroups: ['approvers'], required: 1, expiresInSeconds: 600 },
  detail: 'DELETE /items/1',
};

function reply(approvalId: string, state: ApprovalReply['state'], extra: Partial<ApprovalReply> = {}): ApprovalReply {
  return {
    requestId: request.requestId,
    approvalId,
    state,
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
    ...extra,
  };
}

function decision(approvalId: string, state: ApprovalDecided['state'], at = Date.now()): ApprovalDecided {
  return { approvalId, state, decidedBy: [], decidedAt: new Date(at).toISOString() };
}

/**
 * An approval service that answers from a script (a function of the question's number) and a
 * decision stream the test publishes on.
 */
function fakeService(answers: Array<ApprovalReply | Error | ((n: number) => ApprovalReply)>) {
  const waiters = new ApprovalWaiters();
  const held: ApprovalReply[] = [];
  let asked = 0;
  const deps = {
    request: jest.fn(async (_req: ApprovalRequest) => {
      const a = answers[Math.min(asked, answers.length - 1)];
      asked++;
      if (a instanceof Error) throw a;
      return typeof a === 'function' ? a(asked) : a;
    }),
    waitFor: (id: string, ms: number, signal?: AbortSignal, skip?: ApprovalDecided) =>
      waiters.wait(id, ms, signal, skip),
    now: () => Date.now(),
  };
  const opts = (waitMs: number, more: Partial<HoldOptions> = {}): HoldOptions => ({
    deadline: (_first, now) => now + waitMs,
    onHeld: async (r) => void held.push(r),
    ...more,
  });
  return { deps, opts, held, publish: (d: ApprovalDecided) => waiters.decided(d), asked: () => asked };
}

/** Lets the hold reach its wait before the test publishes a decision. */
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('holdForApproval', () => {
  it('lets an operation an earlier approval covers run at once', async () => {
    const grantUntil = new Date(Date.now() + 60_000).toISOString();
    const svc = fakeService([reply(A, 'approved', { grantUntil })]);
    await expect(holdForApproval(svc.deps, request, svc.opts(1000))).resolves.toEqual({
      kind: 'approved',
      approvalId: A,
      grantUntil,
    });
    expect(svc.held.map((r) => r.state)).toEqual(['approved']);
    expect(svc.asked()).toBe(1);
  });

  it('waits for the decision, then asks again: only the answer lets it run', async () => {
    const svc = fakeService([reply(A, 'pending'), reply(A, 'approved')]);
    const holding = holdForApproval(svc.deps, request, svc.opts(5000));
    await settle();
    expect(svc.asked()).toBe(1);
    svc.publish(decision(A, 'approved'));
    await expect(holding).resolves.toMatchObject({ kind: 'approved', approvalId: A });
    expect(svc.asked()).toBe(2);
    expect(svc.deps.request.mock.calls.every(([r]) => r === request)).toBe(true);
    expect(svc.held.map((r) => r.approvalId)).toEqual([A]);
  });

  it.each(['denied', 'expired', 'cancelled'] as const)('refuses an operation whose approval was %s', async (state) => {
    const svc = fakeService([reply(A, 'pending')]);
    const holding = holdForApproval(svc.deps, request, svc.opts(5000));
    await settle();
    svc.publish(decision(A, state));
    await expect(holding).resolves.toEqual({ kind: 'refused', approvalId: A, state });
    expect(svc.asked()).toBe(1);
  });

  it('sees a decision that arrived before it started waiting', async () => {
    const svc = fakeService([reply(A, 'pending'), reply(A, 'approved')]);
    svc.publish(decision(A, 'approved'));
    await expect(holdForApproval(svc.deps, request, svc.opts(5000))).resolves.toMatchObject({ kind: 'approved' });
  });

  it('waits again, within the time left, when someone else used the one-time approval', async () => {
    const svc = fakeService([reply(A, 'pending'), reply(B, 'pending', { reused: false }), reply(B, 'approved')]);
    const holding = holdForApproval(svc.deps, request, svc.opts(5000));
    await settle();
    svc.publish(decision(A, 'approved'));
    await settle();
    expect(svc.held.map((r) => r.approvalId)).toEqual([A, B]);
    svc.publish(decision(B, 'approved'));
    await expect(holding).resolves.toMatchObject({ kind: 'approved', approvalId: B });
    expect(svc.asked()).toBe(3);
  });

  it('does not act twice on one decision when the answer names the same approval again', async () => {
    const svc = fakeService([reply(A, 'pending'), reply(A, 'pending'), reply(A, 'approved')]);
    const holding = holdForApproval(svc.deps, request, svc.opts(5000));
    await settle();
    svc.publish(decision(A, 'approved', 1000));
    await settle();
    expect(svc.asked()).toBe(2);
    svc.publish(decision(A, 'approved', 1000));
    await settle();
    expect(svc.asked()).toBe(2);
    svc.publish(decision(A, 'used', 2000));
    await expect(holding).resolves.toMatchObject({ kind: 'approved' });
    expect(svc.asked()).toBe(3);
  });

  it('asks once more when the wait runs out, in case a decision event was missed', async () => {
    const svc = fakeService([reply(A, 'pending'), reply(A, 'approved')]);
    await expect(holdForApproval(svc.deps, request, svc.opts(30))).resolves.toMatchObject({ kind: 'approved' });
    expect(svc.asked()).toBe(2);
  });

  it('ends pending when the last question still finds it pending', async () => {
    const svc = fakeService([reply(A, 'pending'), reply(A, 'pending', { reused: true })]);
    const result = await holdForApproval(svc.deps, request, svc.opts(30));
    expect(result).toMatchObject({ kind: 'pending', reply: { approvalId: A, reused: true } });
    expect(svc.asked()).toBe(2);
    expect(svc.held).toHaveLength(1);
  });

  it('does not ask again when there was no time to wait at all', async () => {
    const svc = fakeService([reply(A, 'pending')]);
    await expect(holdForApproval(svc.deps, request, svc.opts(0))).resolves.toMatchObject({ kind: 'pending' });
    expect(svc.asked()).toBe(1);
  });

  it('takes an approval past its expiry with no decision seen as expired, without opening another', async () => {
    const svc = fakeService([() => reply(A, 'pending', { expiresAt: new Date(Date.now() + 20).toISOString() })]);
    const started = Date.now();
    const result = await holdForApproval(svc.deps, request, svc.opts(60_000, { expiryGraceMs: 10 }));
    expect(result).toEqual({ kind: 'refused', approvalId: A, state: 'expired' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(svc.asked()).toBe(1);
  });

  it('leaves the operation pending when the wait is released early (shutdown), without asking again', async () => {
    const svc = fakeService([reply(A, 'pending')]);
    const deps = { ...svc.deps, waitFor: async () => null };
    await expect(holdForApproval(deps, request, svc.opts(60_000))).resolves.toMatchObject({ kind: 'pending' });
    expect(svc.asked()).toBe(1);
  });

  it('stops waiting when the caller aborts, with the approval it waited for', async () => {
    const svc = fakeService([reply(A, 'pending')]);
    const ac = new AbortController();
    const holding = holdForApproval(svc.deps, request, svc.opts(60_000, { signal: ac.signal }));
    await settle();
    ac.abort();
    await expect(holding).resolves.toMatchObject({ kind: 'aborted', reply: { approvalId: A, state: 'pending' } });
  });

  it('reports an unavailable approval service, on the first question and on a later one', async () => {
    const down = fakeService([new MessagingError('timeout', 'no answer')]);
    await expect(holdForApproval(down.deps, request, down.opts(1000))).rejects.toBeInstanceOf(ApprovalUnavailableError);
    expect(down.held).toHaveLength(0);
    const later = fakeService([reply(A, 'pending'), new MessagingError('broker', 'down')]);
    const holding = holdForApproval(later.deps, request, later.opts(5000));
    await settle();
    later.publish(decision(A, 'approved'));
    await expect(holding).rejects.toBeInstanceOf(ApprovalUnavailableError);
  });

  it('fails with the error of a held event that cannot be recorded', async () => {
    const svc = fakeService([reply(A, 'approved')]);
    const refused = new Error('audit down');
    await expect(
      holdForApproval(
        svc.deps,
        request,
        svc.opts(1000, {
          onHeld: () => Promise.reject(refused),
        }),
      ),
    ).rejects.toBe(refused);
  });
});
