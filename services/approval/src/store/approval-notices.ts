import { Inject, Injectable } from '@nestjs/common';
import { IdSchema } from '@airlock/contracts';
import { effectiveState } from '../approval/approval-state';
import { CLOCK, type Clock } from '../clock';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';
import type { ApprovalNotice, NoticeSource } from '../notifications/notice';
import { ApprovalRepository } from './approval.repository';
import { LinkTokens } from './link-tokens';
import { approvalUrl, linkUrl, recordOf, requesterOf } from './records';

/** What notifications say about an approval, with fresh single-use links that expire with it. */
@Injectable()
export class ApprovalNotices implements NoticeSource {
  constructor(
    private readonly repository: ApprovalRepository,
    private readonly links: LinkTokens,
    @Inject(APPROVAL_CONFIG) private readonly config: ApprovalConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async notice(approvalId: string): Promise<ApprovalNotice | null> {
    if (!IdSchema.safeParse(approvalId).success) return null;
    const stored = await this.repository.find(approvalId);
    if (!stored) return null;
    const a = stored.approval;
    return {
      approvalId: a.id,
      state: effectiveState(recordOf(stored), this.clock()),
      sessionId: a.sessionId,
      requestId: a.requestId,
      principal: requesterOf(a),
      connection: a.connection,
      protocol: a.protocol,
      detail: a.detail,
      reason: a.reason,
      ...(a.ruleId !== null ? { ruleId: a.ruleId } : {}),
      required: a.required,
      approverGroups: a.approverGroups,
      expiresAt: a.expiresAt,
      url: approvalUrl(this.config, a.id),
      approveUrl: linkUrl(this.config, this.links.create(a.id, 'approve', a.expiresAt)),
      denyUrl: linkUrl(this.config, this.links.create(a.id, 'deny', a.expiresAt)),
    };
  }
}
