import type { Principal, Protocol } from './common';
import type { ApprovalState } from './requests';

/*
 * What the approval service's admin API answers (GET /approvals, /approvals/:id, and the answers
 * to approve and deny). The service builds these; the CLI and the console read them.
 */

/** How a vote was cast: through the API (console, CLI) or a one-time link from a notification. */
export type VoteVia = 'api' | 'link';

export interface VoteView {
  approver: { issuer: string; subject: string };
  at: string;
  comment: string | null;
  via: VoteVia;
}

/** An approval as approvers see it: everything they need to decide, and what was decided. */
export interface ApprovalView {
  id: string;
  /** As of now: a pending approval past its time shows as expired. */
  state: ApprovalState;
  url: string;
  principal: Principal;
  connection: string;
  protocol: Protocol;
  /**
   * The statement or HTTP request the requester wants to run, whole, for display: control and
   * bidirectional characters are shown as `\uXXXX` escapes (a `\u` in the text as `\\u`). The
   * approval covers the exact operation, whose fingerprint the ingress took.
   */
  detail: string;
  ruleId: string | null;
  reason: string;
  approverGroups: string[];
  required: number;
  /** 0: a one-time approval; otherwise how long an approval lets the same operation run. */
  grantSeconds: number;
  approvals: VoteView[];
  denial: VoteView | null;
  sessionId: string;
  requestId: string;
  createdAt: string;
  expiresAt: string;
  grantUntil: string | null;
  decidedAt: string | null;
  usedAt: string | null;
}
