import type { FailureStageSchema } from '@airlock/contracts';
import type { z } from 'zod';
import { PublicError } from '@airlock/runtime';

export type FailureStage = z.infer<typeof FailureStageSchema>;

/**
 * A refusal or failure the gateway answers itself. `publicMessage` is what the client sees;
 * `cause` is for the logs only.
 */
export class GatewayError extends PublicError {
  /** The operation's request id, when it got one: returned to the client for support and audit look-ups. */
  requestId?: string;
}

/**
 * What the agent is told when policy refused outright: a deny, or a review under a rule that
 * names no approvers (nobody could ever approve it, so holding it would only make it wait).
 */
export function refusalReason(decision: { decision: 'allow' | 'deny' | 'review'; reason: string }): string {
  return decision.decision === 'review'
    ? `approval required (${decision.reason}) but policy names no approvers`
    : decision.reason;
}
