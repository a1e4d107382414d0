import type { Principal } from '@airlock/contracts';
import type { ApprovalRecord } from '../approval/approval-state';
import type { Candidate } from '../approval/request-decision';
import { publicUrl, type ApprovalConfig } from '../config';
import type { ApprovalVoteEntity } from './approval-vote.entity';
import type { ApprovalEntity } from './approval.entity';
import type { StoredApproval } from './approval.repository';

/** One identity across issuers: the same subject from another issuer is someone else. */
export function principalKey(p: { issuer: string; subject: string }): string {
  return JSON.stringify([p.issuer, p.subject]);
}

export function requesterOf(a: ApprovalEntity): Principal {
  return { issuer: a.requesterIssuer, subject: a.requesterSubject, groups: a.requesterGroups };
}

export function voterOf(v: ApprovalVoteEntity): Principal {
  return { issuer: v.approverIssuer, subject: v.approverSubject, groups: v.approverGroups };
}

/** Its state and times, in epoch ms as the state machine counts them. */
export function candidateOf(a: ApprovalEntity): Candidate {
  return {
    state: a.state,
    expiresAt: a.expiresAt.getTime(),
    ...(a.grantUntil ? { grantUntil: a.grantUntil.getTime() } : {}),
    ...(a.decidedAt ? { decidedAt: a.decidedAt.getTime() } : {}),
  };
}

/** A stored approval as the state machine sees it. */
export function recordOf({ approval: a, votes }: StoredApproval): ApprovalRecord {
  return {
    requester: principalKey(requesterOf(a)),
    required: a.required,
    approvedBy: votes.filter((v) => v.decision === 'approve').map((v) => principalKey(voterOf(v))),
    ...candidateOf(a),
  };
}

/** The approval in the approval API. */
export function approvalUrl(config: ApprovalConfig, id: string): string {
  return `${publicUrl(config)}/approvals/${id}`;
}

/** A signed link; it decides nothing without an approver's token. */
export function linkUrl(config: ApprovalConfig, token: string): string {
  return `${publicUrl(config)}/approvals/links/${token}`;
}
