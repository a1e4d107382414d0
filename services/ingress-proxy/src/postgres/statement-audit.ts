import type { AuditEventDraft, AuditEventOf, PostgresOperation } from '@airlock/contracts';
import type { MaskCounts, Masker } from '@airlock/masking';
import type { FailureStage } from '../errors';
import type { TextMaskPlan } from './masking-plan';

export type Envelope = Omit<AuditEventDraft, 'type' | 'data'>;

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
        command: command.slice(0, 64) || 'EMPTY',
        rows: tagRows ?? this.rows,
        ...(sqlstate ? { sqlstate } : {}),
        durationMs: performance.now() - this.started,
        rowsMasked: this.rowsMasked,
        ...(masked ? { masked } : {}),
        ...(this.literalText !== undefined ? { statement: this.literalText.slice(0, 16384) } : {}),
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
  if (!m) return { command: tag.slice(0, 64), rows: null };
  const last = m[3] ?? m[2];
  return { command: m[1], rows: last !== undefined ? Number(last) : null };
}
