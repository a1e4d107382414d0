/** The admin APIs' answers, as the console reads them (see docs/approvals.md and the services' DTOs). */

export interface PrincipalView {
  issuer: string;
  subject: string;
  groups?: string[];
}

export interface VoteView {
  approver: { issuer: string; subject: string };
  at: string;
  comment: string | null;
  via: string;
}

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled' | 'used';

export interface ApprovalView {
  id: string;
  state: ApprovalState;
  url: string;
  principal: PrincipalView;
  connection: string;
  protocol: string;
  detail: string;
  ruleId: string | null;
  reason: string;
  approverGroups: string[];
  required: number;
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

export interface SessionSummary {
  sessionId: string;
  principal: { issuer: string; subject: string } | null;
  connection: string | null;
  protocol: string;
  startedAt: string;
  endedAt: string;
  events: number;
  operations: number;
  decisions: { allow: number; deny: number; review: number; approved?: number };
  masked: number;
}

export interface OperationSummary {
  method?: string;
  path?: string;
  sql?: string;
  command?: string;
  rows?: number;
  rowsMasked?: number;
  sqlstate?: string;
  decision?: string;
  reason?: string;
  ruleId?: string;
  maskingRules?: string[];
  status?: number;
  durationMs?: number;
  upstreamMs?: number;
  bytesOut?: number;
  masked?: Record<string, number>;
  maskedTotal?: number;
  stage?: string;
}

export interface ReplayedEvent {
  chain: number;
  seq: number;
  hash: string;
  event: {
    id: string;
    type: string;
    time: string;
    requestId?: string;
    actor?: { issuer: string; subject: string } | null;
    data?: Record<string, unknown>;
  };
  summary: OperationSummary | null;
}

export interface ChainReport {
  chain: number;
  ok: boolean;
  verified: number;
  anchor: { kind: string; seq: string };
  lastSeq: string | null;
  lastHash: string | null;
  brokenAt: { seq: string; eventId: string; reason?: string; problem?: string } | null;
  truncated: { expectedSeq: string; lastSeq: string | null; reason: string } | null;
}

export interface VerifyReport {
  ok: boolean;
  verifiedAt: string;
  chains: ChainReport[];
  checkpoints: { checked: number; invalid: { kind: string; chain: number; seq: string; problem: string }[] };
  deadLetters: { count?: number } & Record<string, unknown>;
}

export interface ConnectionView {
  name: string;
  protocol: 'http' | 'postgres';
  upstream: string;
  credentialKind: CredentialKind;
  agentCredentialHeaders: string[];
  secretVersion: number | null;
  secretSetAt: string | null;
  secretSetBy?: { issuer: string; subject: string } | null;
  createdAt: string;
  createdBy: { issuer: string; subject: string };
}

export type CredentialKind = 'bearer' | 'header' | 'basic' | 'aws-sigv4' | 'postgres-password';
