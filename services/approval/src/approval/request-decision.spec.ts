import { decideRequest, type Candidate } from './request-decision';

const T0 = 1_800_000_000_000;
const pending = (expiresAt = T0 + 60_000): Candidate => ({ state: 'pending', expiresAt });
const approved = (grantUntil?: number): Candidate => ({
  state: 'approved',
  expiresAt: T0 - 1,
  ...(grantUntil !== undefined ? { grantUntil } : {}),
});

describe('answering a request for an operation', () => {
  it('asks a person when nothing covers the operation', () => {
    expect(decideRequest([], T0)).toEqual({ overdue: [], decision: { kind: 'create' } });
  });

  it('reuses a pending approval still in time, and nobody is notified twice', () => {
    const p = pending();
    expect(decideRequest([p], T0).decision).toEqual({ kind: 'reuse', approval: p });
    expect(decideRequest([p], T0 + 59_999).decision.kind).toBe('reuse');
  });

  it('persists a pending approval past its time as expired and asks anew', () => {
    const late = pending(T0);
    expect(decideRequest([late], T0)).toEqual({ overdue: [late], decision: { kind: 'create' } });
  });

  it('lets an open grant window cover the operation until its end', () => {
    const g = approved(T0 + 1000);
    expect(decideRequest([g], T0).decision).toEqual({ kind: 'grant', approval: g });
    expect(decideRequest([g], T0 + 1000).decision.kind).toBe('create');
  });

  it('uses an approved one-time approval, and a used one never again', () => {
    const once = approved();
    expect(decideRequest([once], T0).decision).toEqual({ kind: 'use', approval: once });
    expect(decideRequest([{ ...once, state: 'used' }], T0).decision.kind).toBe('create');
  });

  it('lets a one-time approval lapse when nobody came back for it in time', () => {
    const once = { ...approved(), decidedAt: T0 - 10_000 };
    expect(decideRequest([once], T0, 10_001).decision.kind).toBe('use');
    expect(decideRequest([once], T0, 10_000).decision.kind).toBe('create');
  });

  it('prefers a grant window to spending a one-time approval', () => {
    const once = approved();
    const g = approved(T0 + 1000);
    expect(decideRequest([once, g], T0).decision).toEqual({ kind: 'grant', approval: g });
  });

  it('never lets denied, expired or cancelled approvals cover anything', () => {
    for (const state of ['denied', 'expired', 'cancelled'] as const) {
      expect(decideRequest([{ state, expiresAt: T0 + 60_000 }], T0).decision.kind).toBe('create');
    }
  });
});
