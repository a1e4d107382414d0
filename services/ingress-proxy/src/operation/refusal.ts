import type { AuditEventDraft } from '@airlock/contracts';
import type { FailureStage } from '../errors';

/** Why the pipeline refused an operation; each adapter answers every kind in its protocol. */
export type RefusalKind =
  /** Policy denied it, or sent it to a review nobody could approve. */
  | 'denied'
  /** A person denied its approval, or nobody decided before it expired or the wait ended. */
  | 'not_approved'
  | 'policy_unavailable'
  | 'audit_unavailable'
  | 'masking_unavailable'
  | 'approval_unavailable';

/**
 * A refusal by the operation pipeline, before anything reached the upstream. `reason` is what
 * the agent is told (the adapter frames it in its protocol); `cause` is for the logs only.
 * `events` are the audit events that explain it, to be published with the adapter's failure
 * event, unless `recorded` says they already end the operation's trail (a denial).
 */
export class Refusal extends Error {
  readonly events: AuditEventDraft[];
  readonly recorded: boolean;

  constructor(
    readonly kind: RefusalKind,
    readonly stage: FailureStage,
    readonly reason: string,
    options: { cause?: unknown; events?: AuditEventDraft[]; recorded?: boolean } = {},
  ) {
    super(reason, { cause: options.cause });
    this.name = 'Refusal';
    this.events = options.events ?? [];
    this.recorded = options.recorded ?? false;
  }
}
