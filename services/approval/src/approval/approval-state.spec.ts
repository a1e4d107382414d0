import {
  ApprovalTransitionError,
  allowsNow,
  effectiveState,
  isFinal,
  transition,
  type ApprovalRecord,
} from './approval-state';

const T0 = 1_800_000_000_000;
const pending = (over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  state: 'pending',
  requester: 'agent-1',
  required: 1,
  approvedBy: [],
  expiresAt: T0 + 60_000,
  ...over,
});

describe('approval state machine', () => {
  it('approves with one approver when one is required, and a one-time grant is used once', () => {
    const approved = transition(pending(), { kind: 'approve', approver: 'alice' }, T0);
    expect(approved.state).toBe('approved');
    expect(allowsNow(approved, T0 + 1)).toBe(true);
    const used = transition(approved, { kind: 'use' }, T0 + 2);
    expect(used.state).toBe('used');
    expect(allowsNow(used, T0 + 3)).toBe(false);
    expect(() => transition(used, { kind: 'use' }, T0 + 4)).toThrow(ApprovalTransitionError);
  });

  it('needs N distinct approvers for N of M', () => {
    const one = transition(pending({ required: 2 }), { kind: 'approve', approver: 'alice' }, T0);
    expect(one.state).toBe('pending');
    expect(() => transition(one, { kind: 'approve', approver: 'alice' }, T0)).toThrow(/already approved/);
    const two = transition(one, { kind: 'approve', approver: 'bob' }, T0);
    expect(two.state).toBe('approved');
    expect(two.approvedBy).toEqual(['alice', 'bob']);
  });

  it('never lets the requester approve or deny its own request', () => {
    expect(() => transition(pending(), { kind: 'approve', approver: 'agent-1' }, T0)).toThrow(/its own request/);
    expect(() => transition(pending(), { kind: 'deny', approver: 'agent-1' }, T0)).toThrow(/its own request/);
  });

  it('expires by the clock, also on read, and nothing is approvable after that', () => {
    const r = pending();
    expect(effectiveState(r, T0 + 59_999)).toBe('pending');
    expect(effectiveState(r, T0 + 60_000)).toBe('expired');
    expect(() => transition(r, { kind: 'approve', approver: 'alice' }, T0 + 60_000)).toThrow(/only a pending/);
    expect(() => transition(r, { kind: 'expire' }, T0)).toThrow(/has not come/);
    expect(transition(r, { kind: 'expire' }, T0 + 60_000).state).toBe('expired');
  });

  it('denies and cancels only pending approvals', () => {
    expect(transition(pending(), { kind: 'deny', approver: 'alice' }, T0).state).toBe('denied');
    expect(transition(pending(), { kind: 'cancel' }, T0).state).toBe('cancelled');
    const approved = transition(pending(), { kind: 'approve', approver: 'alice' }, T0);
    expect(() => transition(approved, { kind: 'deny', approver: 'bob' }, T0)).toThrow(/only a pending/);
    expect(() => transition(approved, { kind: 'cancel' }, T0)).toThrow(/only a pending/);
  });

  it('opens a grant window that allows the operation until it closes', () => {
    const approved = transition(pending(), { kind: 'approve', approver: 'alice' }, T0, 30_000);
    expect(approved.grantUntil).toBe(T0 + 30_000);
    expect(allowsNow(approved, T0 + 29_999)).toBe(true);
    expect(allowsNow(approved, T0 + 30_000)).toBe(false);
    expect(() => transition(approved, { kind: 'use' }, T0)).toThrow(/grant window/);
  });

  it('knows the final states', () => {
    expect(
      ['pending', 'approved', 'denied', 'expired', 'cancelled', 'used'].filter((s) => isFinal(s as never)),
    ).toEqual(['denied', 'expired', 'cancelled', 'used']);
  });
});
