import { Inject, Injectable } from '@nestjs/common';
import type { ApprovalStatusReply, ApprovalStatusRequest } from '@airlock/contracts';
import { CLOCK, type Clock } from '../clock';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';
import { ApprovalRepository, type StoredApproval } from '../store/approval.repository';
import { approvalUrl, principalKey, recordOf, requesterOf } from '../store/records';
import { effectiveState } from './approval-state';

/**
 * Where an approval stands, for the principal it was requested for (the ingress asks on an
 * agent's behalf). Someone else's approval is answered exactly like an unknown id. Reading
 * changes nothing: a pending approval past its time is answered `expired` and left to the sweep.
 */
@Injectable()
export class ApprovalStatusService {
  constructor(
    private readonly repository: ApprovalRepository,
    @Inject(APPROVAL_CONFIG) private readonly config: ApprovalConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async status(req: ApprovalStatusRequest): Promise<ApprovalStatusReply> {
    const stored = await this.repository.find(req.approvalId);
    if (!stored || principalKey(requesterOf(stored.approval)) !== principalKey(req.principal)) {
      return { requestId: req.requestId, approvalId: req.approvalId, found: false };
    }
    return statusOf(stored, req.requestId, this.clock(), approvalUrl(this.config, stored.approval.id));
  }
}

export function statusOf(stored: StoredApproval, requestId: string, now: number, url: string): ApprovalStatusReply {
  const a = stored.approval;
  const record = recordOf(stored);
  return {
    requestId,
    approvalId: a.id,
    found: true,
    state: effectiveState(record, now),
    expiresAt: a.expiresAt.toISOString(),
    ...(a.decidedAt ? { decidedAt: a.decidedAt.toISOString() } : {}),
    approvals: new Set(record.approvedBy).size,
    required: a.required,
    ...(a.grantUntil ? { grantUntil: a.grantUntil.toISOString() } : {}),
    url,
  };
}
