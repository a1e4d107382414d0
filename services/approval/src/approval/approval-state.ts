import type { ApprovalState } from '@airlock/contracts';

/**
 * The approval lifecycle as an explicit state machine:
 *
 *   pending ──approve (enough approvers)──▶ approved ──use (one-time grant)──▶ used
 *      │ ──deny──▶ denied
 *      │ ──expire (its time passed)──▶ expired
 *      └ ──cancel (the requester gave up)──▶ cancelled
 *
 * Every other move is refused. Expiry is decided against an injected clock, also on read, so
 * a stopped expiry worker never leaves a request approvable past its time.
 */
export type ApprovalEvent =
  | { kind: 'approve'; approver: string; comment?: string }
  | { kind: 'deny'; approver: string; comment?: string }
  | { kind: 'expire' }
  | { kind: 'cancel'; reason?: string }
  | { kind: 'use' };

export interface ApprovalRecord {
  state: ApprovalState;
  requester: string;
  /** Approvals needed (N of M). */
  required: number;
  /** Subjects that approved so far, in order. */
  approvedBy: string[];
  expiresAt: number;
  /** For an approved grant with a window: until when the same operation is allowed again. */
  grantUntil?: number;
}

export class ApprovalTransitionError extends Error {
  constructor(
    readonly from: ApprovalState,
    readonly event: ApprovalEvent['kind'],
    readonly why: string,
  ) {
    super(`cannot ${event} an approval that is ${from}: ${why}`);
    this.name = 'ApprovalTransitionError';
  }
}

const FINAL: ReadonlySet<ApprovalState> = new Set(['denied', 'expired', 'cancelled', 'used']);

/** The state as of `now`: a pending approval past its time is expired, whatever is stored. */
export function effectiveState(r: Pick<ApprovalRecord, 'state' | 'expiresAt'>, now: number): ApprovalState {
  return r.state === 'pending' && now >= r.expiresAt ? 'expired' : r.state;
}

/**
 * Applies one event; returns the new record (the input is not changed) or throws
 * ApprovalTransitionError naming why the move is not allowed.
 */
export function transition(r: ApprovalRecord, event: ApprovalEvent, now: number, grantWindowMs = 0): ApprovalRecord {
  const state = effectiveState(r, now);
  const refuse = (why: string): never => {
    throw new ApprovalTransitionError(state, event.kind, why);
  };
  switch (event.kind) {
    case 'approve': {
      if (state !== 'pending') refuse('only a pending approval can be approved');
      if (event.approver === r.requester) refuse('the requester cannot approve its own request');
      if (r.approvedBy.includes(event.approver)) refuse('this approver has already approved it');
      const approvedBy = [...r.approvedBy, event.approver];
      if (approvedBy.length < r.required) return { ...r, approvedBy };
      return {
        ...r,
        approvedBy,
        state: 'approved',
        ...(grantWindowMs > 0 ? { grantUntil: now + grantWindowMs } : {}),
      };
    }
    case 'deny':
      if (state !== 'pending') refuse('only a pending approval can be denied');
      if (event.approver === r.requester) refuse('the requester cannot decide its own request');
      return { ...r, state: 'denied' };
    case 'expire':
      if (state !== 'pending' && state !== 'expired') refuse('only a pending approval expires');
      if (now < r.expiresAt) refuse('its time has not come');
      return { ...r, state: 'expired' };
    case 'cancel':
      if (state !== 'pending') refuse('only a pending approval can be cancelled');
      return { ...r, state: 'cancelled' };
    case 'use':
      if (state !== 'approved') refuse('only an approved request can be used');
      if (r.grantUntil !== undefined) refuse('a grant window is used by time, not once');
      return { ...r, state: 'used' };
  }
}

/** True when the approval lets the operation run now (an approved one-time grant, or a grant window still open). */
export function allowsNow(r: Pick<ApprovalRecord, 'state' | 'expiresAt' | 'grantUntil'>, now: number): boolean {
  if (effectiveState(r, now) !== 'approved') return false;
  return r.grantUntil === undefined || now < r.grantUntil;
}

export function isFinal(state: ApprovalState): boolean {
  return FINAL.has(state);
}
