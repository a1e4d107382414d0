import { truncateText, type AuditEventDraft, type PostgresOperation } from '@airlock/contracts';
import type { MaskCounts, Masker } from '@airlock/masking';
import type { Classification } from '@airlock/sql';
import type { FailureStage } from '../errors';
import {
  COMMAND_MAX,
  statementCompletedDraft,
  statementFailedDraft,
  type DecisionRecord,
  type Envelope,
  type Folded,
} from '../operation/operation-audit';
import type { TextMaskPlan } from './masking-plan';

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

/** One intercepted statement message (a Query, or one Execute) from decision to outcome. */
export class StatementContext {
  readonly started = performance.now();
  /** When the statement left the gateway for the server; undefined while it has not. */
  private forwardedAt: number | undefined;
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
  private folded: Folded<Omit<PostgresOperation, 'params'>> | undefined;

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

  /** The statement goes to the server now: the server's time starts. */
  forwarded(): void {
    this.forwardedAt ??= performance.now();
  }

  /** The statement is audited by its outcome event alone (see the statement.completed contract). */
  foldInto(operation: Omit<PostgresOperation, 'params'>, decision: DecisionRecord): void {
    this.folded = { operation, decision };
  }

  private takeFolded(): Folded<Omit<PostgresOperation, 'params'>> | undefined {
    const f = this.folded;
    this.folded = undefined;
    return f;
  }

  /** statement.failed for this statement (it did not run, or its session ended under it). */
  failure(stage: FailureStage, reason: string, sqlstate: string): AuditEventDraft {
    this.finished = true;
    this.onStatementEnd?.();
    return statementFailedDraft(this.env, { stage, publicMessage: reason, sqlstate }, this.takeFolded());
  }

  /** statement.completed for one statement (a CommandComplete, an EmptyQueryResponse, or an error). */
  completion(command: string, tagRows: number | null, sqlstate?: string): AuditEventDraft {
    const masked = Object.keys(this.counts).length > 0 ? { ...this.counts } : undefined;
    const now = performance.now();
    const draft = statementCompletedDraft(
      this.env,
      {
        command,
        rows: tagRows ?? this.rows,
        sqlstate,
        durationMs: now - this.started,
        upstreamMs: this.forwardedAt !== undefined ? now - this.forwardedAt : undefined,
        rowsMasked: this.rowsMasked,
        masked,
        literalText: this.literalText,
      },
      this.takeFolded(),
    );
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
