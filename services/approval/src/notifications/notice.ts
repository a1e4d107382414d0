import type { ApprovalState, Principal, Protocol } from '@airlock/contracts';

/**
 * What a notification says about one approval, with fresh signed links. The approval store
 * (store/) provides it; the notification workers (notifications/) only read it.
 */
export interface ApprovalNotice {
  approvalId: string;
  state: ApprovalState;
  /** The held operation's session and request: notification audit events carry them. */
  sessionId: string;
  requestId: string;
  principal: Principal;
  connection: string;
  protocol: Protocol;
  /** The exact statement or HTTP request line (and body preview). */
  detail: string;
  /** Policy's reason for review. */
  reason: string;
  ruleId?: string;
  required: number;
  approverGroups: string[];
  expiresAt: Date;
  /** The approval in the approval API. */
  url: string;
  /** Signed, single-use, expiring links; an approver uses one with its own token. */
  approveUrl: string;
  denyUrl: string;
}

export interface NoticeSource {
  /** The notice of an approval, or null when there is no such approval. */
  notice(approvalId: string): Promise<ApprovalNotice | null>;
}

export const NOTICE_SOURCE = Symbol('NOTICE_SOURCE');
