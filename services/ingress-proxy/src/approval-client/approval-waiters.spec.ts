import type { ApprovalDecided } from '@airlock/contracts';
import { ApprovalWaiters } from './approval-waiters';

const A = '00000000-0000-7000-8000-00000000000a';
const B = '00000000-0000-7000-8000-00000000000b';

function decision(approvalId: string, state: ApprovalDecided['state'] = 'approved', at = 1): ApprovalDecided {
  return { approvalId, state, decidedBy: [], decidedAt: new Date(at * 1000).toISOString() };
}

describe('ApprovalWaiters', () => {
  it('hands a decision to every waiter of that approval, and to no other', async () => {
    const w = new ApprovalWaiters();
    const first = w.wait(A, 1000);
    const second = w.wait(A, 1000);
    const other = w.wait(B, 30);
    w.decided(decision(A, 'denied'));
    await expect(first).resolves.toMatchObject({ approvalId: A, state: 'denied' });
    await expect(second).resolves.toMatchObject({ approvalId: A, state: 'denied' });
    await expect(other).resolves.toBeNull();
    expect(w.waiterCount).toBe(0);
  });

  it('answers a waiter that registers after its decision arrived', async () => {
    const w = new ApprovalWaiters();
    w.decided(decision(A));
    await expect(w.wait(A, 10)).resolves.toMatchObject({ approvalId: A, state: 'approved' });
  });

  it('gives null on timeout and on abort, and forgets the waiter', async () => {
    const w = new ApprovalWaiters();
    await expect(w.wait(A, 20)).resolves.toBeNull();
    const ac = new AbortController();
    const waiting = w.wait(A, 60_000, ac.signal);
    ac.abort();
    await expect(waiting).resolves.toBeNull();
    await expect(w.wait(A, 60_000, ac.signal)).resolves.toBeNull();
    expect(w.waiterCount).toBe(0);
  });

  it('skips a decision already acted on, also when it is redelivered, and waits for the next', async () => {
    const w = new ApprovalWaiters();
    const approved = decision(A, 'approved', 1);
    w.decided(approved);
    const waiting = w.wait(A, 1000, undefined, approved);
    w.decided({ ...approved });
    w.decided(decision(A, 'used', 2));
    await expect(waiting).resolves.toMatchObject({ state: 'used' });
  });

  it('remembers a bounded number of decisions', async () => {
    const w = new ApprovalWaiters({ maxRecent: 2 });
    w.decided(decision(A));
    w.decided(decision(B));
    w.decided(decision('00000000-0000-7000-8000-00000000000c'));
    expect(w.recentCount).toBe(2);
    await expect(w.wait(A, 5)).resolves.toBeNull();
    await expect(w.wait(B, 5)).resolves.not.toBeNull();
  });

  it('remembers decisions for a limited time', async () => {
    let now = 0;
    const w = new ApprovalWaiters({ recentTtlMs: 1000, now: () => now });
    w.decided(decision(A));
    now = 999;
    await expect(w.wait(A, 5)).resolves.not.toBeNull();
    now = 1000;
    await expect(w.wait(A, 5)).resolves.toBeNull();
    w.decided(decision(B));
    now = 2500;
    w.decided(decision(A, 'denied'));
    expect(w.recentCount).toBe(1);
  });

  it('releases every waiter on shutdown', async () => {
    const w = new ApprovalWaiters();
    const waiting = [w.wait(A, 60_000), w.wait(B, 60_000)];
    w.releaseAll();
    await expect(Promise.all(waiting)).resolves.toEqual([null, null]);
  });
});
