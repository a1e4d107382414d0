import {
  truncateText,
  type ApprovalReply,
  type ApprovalState,
  type AuditEventDraft,
  type AuditEventOf,
  type HttpOperation,
  type PolicyDecision,
  type PostgresOperation,
} from '@airlock/contracts';
import type { FailureStage } from '../errors';

/**
 * Every audit event about an operation, for every protocol, is built here: the trail's shape is
 * decided in one place. Text a client chose (paths, statement text, application names) is cut to
 * the contract's limits at a code point.
 */

/** What every event of one operation shares: session, request, actor, connection, protocol. */
export type Envelope = Omit<AuditEventDraft, 'type' | 'data'>;

/** The decision as audit events carry it (operation.decided, and folded into outcome events). */
export type DecisionRecord = AuditEventOf<'operation.decided'>['data'];

/** A decision as the audit trail records it (operation.decided). */
export function decidedData(decision: PolicyDecision, cached: boolean): DecisionRecord {
  return {
    decision: decision.decision,
    reason: decision.reason,
    ruleId: decision.ruleId,
    policyVersion: decision.policyVersion,
    masking: decision.masking,
    cached,
  };
}

/** operation.decided, from the decision as recorded. */
export function decidedDraft(env: Envelope, record: DecisionRecord): AuditEventDraft<'operation.decided'> {
  return { ...env, type: 'operation.decided', data: record };
}

/** The operation.held event of an answer. */
export function heldDraft(env: Envelope, reply: ApprovalReply): AuditEventDraft {
  return {
    ...env,
    type: 'operation.held',
    data: {
      approvalId: reply.approvalId,
      state: reply.state,
      reused: reply.reused ?? false,
      expiresAt: reply.expiresAt,
      ...(reply.grantUntil ? { grantUntil: reply.grantUntil } : {}),
    },
  };
}

/** The operation.denied event of an operation whose approval was denied, expired or cancelled. */
export function approvalDeniedDraft(
  env: Envelope,
  decision: Pick<PolicyDecision, 'ruleId' | 'policyVersion'>,
  approvalId: string,
  state: ApprovalState,
  reason: string,
): AuditEventDraft {
  return {
    ...env,
    type: 'operation.denied',
    data: { reason, ruleId: decision.ruleId, policyVersion: decision.policyVersion, approvalId, approvalState: state },
  };
}

/** The operation as the trail keeps it: header values, query values and bind parameter values are for policy's eyes only. */
export type AuditedOperation = Omit<HttpOperation, 'headers' | 'query'> | Omit<PostgresOperation, 'params'>;

export function auditedOperation(operation: HttpOperation): Omit<HttpOperation, 'headers' | 'query'>;
export function auditedOperation(operation: PostgresOperation): Omit<PostgresOperation, 'params'>;
export function auditedOperation(operation: HttpOperation | PostgresOperation): AuditedOperation {
  if (operation.kind === 'http') {
    const { headers: _headers, query: _query, ...audited } = operation;
    return audited;
  }
  const { params: _params, ...audited } = operation;
  return audited;
}

/** operation.intercepted: what the agent asked for, before policy decided. */
export function interceptedDraft(env: Envelope, operation: AuditedOperation): AuditEventDraft<'operation.intercepted'> {
  return { ...env, type: 'operation.intercepted', data: { operation } };
}

/** operation.denied of an operation policy refused outright. */
export function deniedDraft(
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

/**
 * An operation audited by its outcome event alone (a read, see the operation.completed contract):
 * the operation and decision that event carries.
 */
export interface Folded<O extends AuditedOperation = AuditedOperation> {
  operation: O;
  decision: DecisionRecord;
}

/* HTTP */

/** The contract's limit on an operation's path, in UTF-16 units. */
const PATH_MAX = 8192;

/** The operation as policy and the audit trail see it before the request is read. */
export function httpOperation(method: string, path: string): HttpOperation {
  return { kind: 'http', method, path: truncateText(path, PATH_MAX) };
}

/** operation.failed of an HTTP operation: where it failed and the status the agent received. */
export function httpFailedDraft(
  env: Envelope,
  stage: FailureStage,
  reason: string,
  status: number,
  folded?: Folded,
): AuditEventDraft<'operation.failed'> {
  return { ...env, type: 'operation.failed', data: { stage, reason, status, ...folded } };
}

/** operation.completed of an HTTP operation whose whole response reached the agent. */
export function httpCompletedDraft(
  env: Envelope,
  data: Omit<AuditEventOf<'operation.completed'>['data'], 'operation' | 'decision'>,
  folded?: Folded,
): AuditEventDraft<'operation.completed'> {
  return { ...env, type: 'operation.completed', data: { ...data, ...folded } };
}

/** auth.failed for a refused HTTP request: the path (client text) is cut at a code point. */
export function httpAuthFailedDraft(
  env: { sessionId: string; requestId: string; connection: string | null },
  refused: { code: string; reason: string; method: string; path?: string },
): AuditEventDraft<'auth.failed'> {
  return {
    type: 'auth.failed',
    ...env,
    actor: null,
    protocol: 'http',
    source: 'ingress-proxy',
    data: {
      code: refused.code,
      reason: refused.reason,
      method: refused.method,
      path: refused.path === undefined ? undefined : truncateText(refused.path, 2048),
    },
  };
}

/* PostgreSQL */

/** The contract's limits, in UTF-16 units. */
const APPLICATION_NAME_MAX = 64;
export const COMMAND_MAX = 64;
const STATEMENT_MAX = 16384;

/** session.started: the client's application_name is cut at a code point, never inside a pair. */
export function sessionStartedDraft(
  env: Envelope,
  session: { client: string; tls: boolean; applicationName?: string; leaseId: string },
): AuditEventDraft<'session.started'> {
  const { client, tls, applicationName, leaseId } = session;
  return {
    ...env,
    type: 'session.started',
    data: {
      client,
      tls,
      ...(applicationName ? { applicationName: truncateText(applicationName, APPLICATION_NAME_MAX) } : {}),
      leaseId,
    },
  };
}

/** statement.completed of one statement; `folded` when the statement is audited by this event alone. */
export function statementCompletedDraft(
  env: Envelope,
  outcome: {
    command: string;
    rows: number;
    sqlstate?: string;
    durationMs: number;
    upstreamMs?: number;
    rowsMasked: number;
    masked?: Record<string, number>;
    literalText?: string;
  },
  folded?: Partial<Folded<Omit<PostgresOperation, 'params'>>>,
): AuditEventDraft<'statement.completed'> {
  const { command, rows, sqlstate, durationMs, upstreamMs, rowsMasked, masked, literalText } = outcome;
  return {
    ...env,
    type: 'statement.completed',
    data: {
      command: truncateText(command, COMMAND_MAX) || 'EMPTY',
      rows,
      ...(sqlstate ? { sqlstate } : {}),
      durationMs,
      ...(upstreamMs !== undefined ? { upstreamMs } : {}),
      rowsMasked,
      ...(masked ? { masked } : {}),
      ...(literalText !== undefined ? { statement: truncateText(literalText, STATEMENT_MAX) } : {}),
      ...folded,
    },
  };
}

/** statement.failed of a statement (or session start) the gateway refused or could not run. */
export function statementFailedDraft(
  env: Envelope,
  error: { stage: FailureStage; publicMessage: string; sqlstate: string },
  folded?: Partial<Folded<Omit<PostgresOperation, 'params'>>>,
): AuditEventDraft<'statement.failed'> {
  return {
    ...env,
    type: 'statement.failed',
    data: { stage: error.stage, reason: error.publicMessage, sqlstate: error.sqlstate, ...folded },
  };
}

/** session.ended, with its own request id. */
export function sessionEndedDraft(
  env: Omit<Envelope, 'requestId'>,
  requestId: string,
  ended: AuditEventOf<'session.ended'>['data'],
): AuditEventDraft<'session.ended'> {
  return { ...env, requestId, type: 'session.ended', data: ended };
}

/** auth.failed of a session start whose token or connection was refused. */
export function pgAuthFailedDraft(
  env: Envelope,
  code: string,
  reason: string,
  more: { ruleId?: string; policyVersion?: string } = {},
): AuditEventDraft<'auth.failed'> {
  return { ...env, type: 'auth.failed', data: { code, reason, ...more } };
}

/* MCP */

/** auth.failed of a refused /mcp request (no token, or one the verifier refused). */
export function mcpAuthFailedDraft(
  env: { sessionId: string; requestId: string },
  refused: { code: string; reason: string; method: string; path: string },
): AuditEventDraft<'auth.failed'> {
  return {
    type: 'auth.failed',
    ...env,
    actor: null,
    connection: null,
    protocol: 'mcp',
    source: 'ingress-proxy',
    data: { code: refused.code, reason: refused.reason, method: refused.method, path: refused.path },
  };
}
