import { allowsNow, effectiveState, type ApprovalRecord } from './approval-state';

/** An approval of the requested operation, as far as answering a new request needs it. */
export type Candidate = Pick<ApprovalRecord, 'state' | 'expiresAt' | 'grantUntil'> & {
  /** When it was approved (or otherwise decided). */
  decidedAt?: number;
};

export type RequestDecision<C> =
  | { kind: 'reuse'; approval: C }
  | { kind: 'grant'; approval: C }
  | { kind: 'use'; approval: C }
  | { kind: 'create' };

/**
 * What a request for an operation gets, given that operation's pending and approved approvals:
 * the pending one still in time is reused (nobody is asked twice); an open grant window lets it
 * run; an approved one-time approval is used up by it, if it was approved within `useWithinMs` (an
 * old yes does not cover an operation that nobody came back for); otherwise a person has to be
 * asked anew.
 * Pending approvals past their time come back in `overdue`, to be persisted as expired.
 */
export function decideRequest<C extends Candidate>(
  live: readonly C[],
  now: number,
  useWithinMs = Number.POSITIVE_INFINITY,
): { overdue: C[]; decision: RequestDecision<C> } {
  const overdue = live.filter((c) => c.state === 'pending' && effectiveState(c, now) === 'expired');
  const pending = live.find((c) => effectiveState(c, now) === 'pending');
  if (pending) return { overdue, decision: { kind: 'reuse', approval: pending } };
  const granted = live.find((c) => c.grantUntil !== undefined && allowsNow(c, now));
  if (granted) return { overdue, decision: { kind: 'grant', approval: granted } };
  const oneTime = live.find(
    (c) => c.grantUntil === undefined && allowsNow(c, now) && now < (c.decidedAt ?? now) + useWithinMs,
  );
  if (oneTime) return { overdue, decision: { kind: 'use', approval: oneTime } };
  return { overdue, decision: { kind: 'create' } };
}
