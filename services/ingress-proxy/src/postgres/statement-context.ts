import { truncateText, type AuditEventDraft, type AuditEventOf, type PostgresOperation } from '@airlock/contracts';
import type { MaskCounts, Masker } from '@airlock/masking';
import type { Classification } from '@airlock/sql';
import type { FailureStage } from '../errors';
import type { TextMaskPlan } from './masking-plan';

export type Envelope = Omit<AuditEventDraft, 'type' | 'data'>;

/** The contract's limits, in UTF-16 units. */
const APPLICATION_NAME_MAX = 64;
const COMMAND_MAX = 64;
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

/** What policy is asked about, and the trail records, for one statement message as classified. */
export function statementOperation(
  c: Classification,
  via: 'simple' | 'extended',
  params: Array<string | null> | undefined,
  /** The statements as policy judges them (table names qualified under the session's search_path). */
  statements: PostgresOperation['statements'] = c.parsed ? c.statements : [],
): PostgresOperation {
  return {
    kind: 'postgres',
    via,
    sql: c.normalized,
    fingerprint: c.fingerprint,
    parsed: c.parsed,
    statements,
    paramCount: params?.length ?? 0,
    ...(params && params.length > 0 ? { params } : {}),
  };
}

/** The operation as audited: bind parameter values are for policy's eyes only, the trail keeps their count. */
export function auditedOperation(operation: PostgresOperation): Omit<PostgresOperation, 'params'> {
  const { params: _params, ...audited } = operation;
  return audited;
}

export function interceptedDraft(env: Envelope, operation: PostgresOperation): AuditEventDraft {
  return { ...env, type: 'operation.intercepted', data: { operation: auditedOperation(operation) } };
}

/** operation.denied of a statement policy refused. */
export function policyDeniedDraft(
  env: Envelope,
  reason: string,
  decision: { ruleId?: string; policyVersion: string },
): AuditEventDraft<'operation.denied'> {
  return {
    ...env,
    type: 'operation.denied',
    data: { reason, ruleId: decision.ruleId, policyVersion: decision.policyVersion },
  };
}

/** statement.failed of a statement (or session start) the gateway refused with `error`. */
export function statementFailedDraft(
  env: Envelope,
  error: { stage: FailureStage; publicMessage: string; sqlstate: string },
): AuditEventDraft<'statement.failed'> {
  return {
    ...env,
    type: 'statement.failed',
    data: { stage: error.stage, reason: error.publicMessage, sqlstate: error.sqlstate },
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

/** The decision as audit events carry it (operation.decided, and folded into statement events). */
type FoldedDecision = AuditEventOf<'operation.decided'>['data'];

/** One intercepted statement message (a Query, or one Execute) from decision to outcome. */
export class StatementContext {
  readonly started = performance.now();
  rows = 0;
  rowsMasked = 0;
  readonly counts: MaskCounts = {};
  /** Statements of a simple Query that have completed so far. */
  completed = 0;
  finished = false;
  /** How masked columns flow through the statement's text, when policy masks columns. */
  maskPlan: TextMaskPlan | undefined;
  /** Called each time one of the text's statements ends, however it ends (a DDL text forgets the catalog). */
  onStatementEnd: (() => void) | undefined;
  /**
   * For a read-only statement audited in one event: the operation and decision, carried by the
   * first outcome event of the context (and only by it).
   */
  private folded: { operation: Omit<PostgresOperation, 'params'>; decision: FoldedDecision } | undefined;

  constructor(
    readonly env: Envelope,
    /** Masks the statement's results, errors and notices, as its deciding rules say; undefined: none. */
    readonly masker: Masker | undefined,
    /** The text with literals, kept only when policy allows it. */
    readonly literalText: string | undefined,
  ) {}

  get requestId(): string {
    return this.env.requestId;
  }

  /** The statement is audited by its outcome event alone (see the statement.completed contract). */
  foldInto(operation: Omit<PostgresOperation, 'params'>, decision: FoldedDecision): void {
    this.folded = { operation, decision };
  }

  private takeFolded(): { operation?: Omit<PostgresOperation, 'params'>; decision?: FoldedDecision } {
    const f = this.folded;
    this.folded = undefined;
    return f ?? {};
  }

  /** statement.failed for this statement (it did not run, or its session ended under it). */
  failure(stage: FailureStage, reason: string, sqlstate: string): AuditEventDraft {
    this.finished = true;
    this.onStatementEnd?.();
    return { ...this.env, type: 'statement.failed', data: { stage, reason, sqlstate, ...this.takeFolded() } };
  }

  /** statement.completed for one statement (a CommandComplete, an EmptyQueryResponse, or an error). */
  completion(command: string, tagRows: number | null, sqlstate?: string): AuditEventDraft {
    const masked = Object.keys(this.counts).length > 0 ? { ...this.counts } : undefined;
    const draft: AuditEventDraft = {
      ...this.env,
      type: 'statement.completed',
      data: {
        command: truncateText(command, COMMAND_MAX) || 'EMPTY',
        rows: tagRows ?? this.rows,
        ...(sqlstate ? { sqlstate } : {}),
        durationMs: performance.now() - this.started,
        rowsMasked: this.rowsMasked,
        ...(masked ? { masked } : {}),
        ...(this.literalText !== undefined ? { statement: truncateText(this.literalText, STATEMENT_MAX) } : {}),
        ...this.takeFolded(),
      },
    };
    this.completed++;
    this.finished = true;
    this.onStatementEnd?.();
    this.rows = 0;
    this.rowsMasked = 0;
    for (const k of Object.keys(this.counts)) delete this.counts[k];
    return draft;
  }
}

/** The command tag without its counts ("INSERT 0 1" → INSERT), and the row count it gives. */
export function splitCommandTag(tag: string): { command: string; rows: number | null } {
  const m = /^([A-Z][A-Z ]*?)(?: (\d+))?(?: (\d+))?$/.exec(tag);
  if (!m) return { command: truncateText(tag, COMMAND_MAX), rows: null };
  const last = m[3] ?? m[2];
  return { command: m[1], rows: last !== undefined ? Number(last) : null };
}
