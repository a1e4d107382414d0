import { ApprovalVoteEntity } from '../store/approval-vote.entity';
import { ApprovalEntity } from '../store/approval.entity';
import type { StoredApproval } from '../store/approval.repository';
import { decisionOf } from './transitions';

const T0 = Date.UTC(2027, 0, 1);
const issuer = 'https://idp.example';

function stored(over: Partial<ApprovalEntity>, votes: Partial<ApprovalVoteEntity>[] = []): StoredApproval {
  const approval = Object.assign(new ApprovalEntity(), {
    id: '0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b',
    state: 'pending',
    requesterIssuer: issuer,
    requesterSubject: 'agent-1',
    requesterGroups: ['agents'],
    decidedAt: new Date(T0),
    grantUntil: null,
    ...over,
  });
  return {
    approval,
    votes: votes.map((v, i) =>
      Object.assign(new ApprovalVoteEntity(), {
        approvalId: approval.id,
        approverIssuer: issuer,
        approverSubject: `approver-${i}`,
        approverGroups: ['dba'],
        decision: 'approve',
        comment: null,
        via: 'api',
        decidedAt: new Date(T0 - 1000 + i),
        ...v,
      }),
    ),
  };
}

describe('the decision announced for an outcome', () => {
  it('names every approver of an approval, and its grant window', () => {
    const d = decisionOf(
      stored({ state: 'approved', grantUntil: new Date(T0 + 60_000) }, [{}, { comment: 'ok by me' }]),
    );
    expect(d).toEqual({
      approvalId: '0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b',
      state: 'approved',
      decidedBy: [
        { issuer, subject: 'approver-0', groups: ['dba'] },
        { issuer, subject: 'approver-1', groups: ['dba'] },
      ],
      decidedAt: new Date(T0).toISOString(),
      comment: 'ok by me',
      grantUntil: new Date(T0 + 60_000).toISOString(),
    });
  });

  it('names the one who denied, not those who had approved', () => {
    const d = decisionOf(stored({ state: 'denied' }, [{}, { decision: 'deny', comment: 'no' }]));
    expect(d.decidedBy.map((p) => p.subject)).toEqual(['approver-1']);
    expect(d.comment).toBe('no');
  });

  it('names nobody for an expiry and the requester for a cancel', () => {
    expect(decisionOf(stored({ state: 'expired' }, [{}])).decidedBy).toEqual([]);
    expect(decisionOf(stored({ state: 'cancelled' })).decidedBy).toEqual([
      { issuer, subject: 'agent-1', groups: ['agents'] },
    ]);
  });

  it('has nothing to announce while pending or once used', () => {
    expect(() => decisionOf(stored({ state: 'pending', decidedAt: null }))).toThrow(/no decision/);
    expect(() => decisionOf(stored({ state: 'used' }))).toThrow(/no decision/);
  });
});
