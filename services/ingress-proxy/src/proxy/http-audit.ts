import {
  truncateText,
  type AuditEventDraft,
  type AuditEventOf,
  type HttpOperation,
  type PolicyDecision,
} from '@airlock/contracts';
import type { FailureStage } from '../errors';

/** The audit events of one HTTP operation. Paths are client text: cut at a code point. */
export type Envelope = Omit<AuditEventDraft, 'type' | 'data'>;

/** The contract's limit on an operation's path, in UTF-16 units. */
const PATH_MAX = 8192;

/** The operation as policy and the audit trail see it. */
export function httpOperation(method: string, path: string): HttpOperation {
  return { kind: 'http', method, path: truncateText(path, PATH_MAX) };
}

export function httpInterceptedDraft(
  env: Envelope,
  operation: HttpOperation,
): AuditEventDraft<'operation.intercepted'> {
  return { ...env, type: 'operation.intercepted', data: { operation } };
}

export function httpDeniedDraft(
  env: Envelope,
  reason: string,
  decision: Pick<PolicyDecision, 'ruleId' | 'policyVersion'>,
): AuditEventDraft<'operation.denied'> {
  return {
    ...env,
    type: 'operation.denied',
    data: { reason, ruleId: decision.ruleId, policyVersion: decision.policyVersion },
  };
}

export function httpFailedDraft(
  env: Envelope,
  stage: FailureStage,
  reason: string,
  status: number,
): AuditEventDraft<'operation.failed'> {
  return { ...env, type: 'operation.failed', data: { stage, reason, status } };
}

export function httpCompletedDraft(
  env: Envelope,
  data: AuditEventOf<'operation.completed'>['data'],
): AuditEventDraft<'operation.completed'> {
  return { ...env, type: 'operation.completed', data };
}
