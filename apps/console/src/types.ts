/** The admin APIs' answers, as the console reads them (see docs/approvals.md and the services' DTOs). */

import type { OperationSummary } from '@airlock/contracts/audit-views';

// The approval and replay answers are declared once, in libs/contracts, for the services that
// build them and every client that reads them (types only: nothing of it is bundled).
export type { ApprovalState, CredentialKind } from '@airlock/contracts/requests';
export type { ConnectionView } from '@airlock/contracts/vault-views';
export type { ApprovalView, VoteView } from '@airlock/contracts/approval-views';
export type { OperationSummary, SessionSummary } from '@airlock/contracts/audit-views';

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
