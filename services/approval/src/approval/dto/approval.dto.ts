import { z } from 'zod';
import { ApprovalStateSchema, type ApprovalView, type VoteView } from '@airlock/contracts';
import type { ApprovalVoteEntity } from '../../store/approval-vote.entity';
import type { StoredApproval } from '../../store/approval.repository';
import { candidateOf, requesterOf } from '../../store/records';
import { showInvisible } from '../../notifications/text';
import { effectiveState } from '../approval-state';

/**
 * `POST /approvals/:id/approve`, `/deny` and `/approvals/links/:token`; no body is the same as
 * `{}`, and a blank comment the same as none.
 */
export const DecisionBodySchema = z.preprocess(
  (body) => body ?? {},
  z
    .object({
      comment: z
        .string()
        .max(2000)
        .optional()
        .transform((c) => c?.trim() || undefined),
    })
    .strict(),
);
export interface DecisionBody {
  comment?: string;
}

/** `GET /approvals?state=`. */
export const ListQuerySchema = z.object({ state: ApprovalStateSchema.default('pending') });

function voteView(v: ApprovalVoteEntity): VoteView {
  return {
    approver: { issuer: v.approverIssuer, subject: v.approverSubject },
    at: v.decidedAt.toISOString(),
    comment: v.comment,
    via: v.via,
  };
}

export function approvalView(stored: StoredApproval, now: number, url: string): ApprovalView {
  const a = stored.approval;
  const denial = stored.votes.find((v) => v.decision === 'deny');
  return {
    id: a.id,
    state: effectiveState(candidateOf(a), now),
    url,
    principal: requesterOf(a),
    connection: a.connection,
    protocol: a.protocol,
    detail: showInvisible(a.detail),
    ruleId: a.ruleId,
    reason: a.reason,
    approverGroups: a.approverGroups,
    required: a.required,
    grantSeconds: a.grantSeconds,
    approvals: stored.votes.filter((v) => v.decision === 'approve').map(voteView),
    denial: denial ? voteView(denial) : null,
    sessionId: a.sessionId,
    requestId: a.requestId,
    createdAt: a.createdAt.toISOString(),
    expiresAt: a.expiresAt.toISOString(),
    grantUntil: a.grantUntil?.toISOString() ?? null,
    decidedAt: a.decidedAt?.toISOString() ?? null,
    usedAt: a.usedAt?.toISOString() ?? null,
  };
}
