import type { Logger } from '@nestjs/common';
import { uuidv7, type ApprovalReply, type AuditEventDraft, type PostgresOperation } from '@airlock/contracts';
import { tracingEnabled } from '@airlock/observability';
import { encodeNoticeResponse } from '@airlock/pg-wire';
import type { Classification, SearchPath } from '@airlock/sql';
import { sqlApprovalDetail } from '../approval-client/approval-detail';
import { sqlOperationFingerprint } from '../approval-client/operation-fingerprint';
import {
  approvalDeniedDraft,
  auditedOperation,
  interceptedDraft,
  statementFailedDraft,
  type Envelope,
} from '../operation/operation-audit';
import type { Admitted, Decided, Operation, OperationPipeline } from '../operation/pipeline';
import { Refusal } from '../operation/refusal';
import { traceOperation, type TraceIds } from '../operation/operation-trace';
import { maskedUseRefusal, planText, type RelationLookup, type TextMaskPlan } from './masking-plan';
import { PgGatewayError, SqlState, pgRefusal } from './pg-errors';
import {
  UntrackedSearchPathError,
  everySchema,
  qualifiedStatements,
  type SearchPathTracker,
} from './search-path-tracker';
import { StatementContext, statementOperation } from './statement-context';

/** What the gate needs of the operation pipeline. */
export type StatementPipeline = Pick<
  OperationPipeline,
  'decide' | 'admit' | 'explain' | 'auditFirst' | 'hold' | 'record'
>;

/** How one statement message was judged. */
export interface Verdict {
  ctx: StatementContext | null;
  /** Set when it is refused: the error answered in its place. */
  refusal?: PgGatewayError;
  /** The allowed statement's classification: what it changes in the session once it runs. */
  classification?: Classification;
}

export interface GateDeps {
  logger: Logger;
  pipeline: StatementPipeline;
  /** The relations the masking analysis looks up, on this session's upstream. */
  relations: RelationLookup;
  /** Sends a notice to the client now (the statement it concerns is still waiting). */
  notify(notice: Buffer): void;
  /**
   * A tool call's session: a held statement waits `waitMs` at most, then is answered with
   * SQLSTATE `HeldForApproval` and its approval left pending for the call's retry.
   */
  toolHold?: { waitMs: number; onHeld(reply: ApprovalReply): void };
}

/** One statement message on its way to policy. */
interface Asked {
  op: Operation & { operation: PostgresOperation };
  c: Classification;
  sql: string;
  /** Every search_path the statement may run under. */
  paths: SearchPath[];
}

/** The statement held for approval, at most one per session (the client pump waits on it). */
interface Held {
  abort: AbortController;
  env: Envelope;
}

/** The cancel reason of an approval whose session ended while its statement was held. */
const CLOSED_WHILE_HELD = {
  client: 'the client closed the session',
  upstream: 'the database closed the session',
  error: 'the session failed',
  shutdown: 'the gateway shut down',
} as const;

export type CloseReason = keyof typeof CLOSED_WHILE_HELD;

const READ_ONLY = new Set(['read', 'session', 'transaction']);

/** Nothing the statement does can change anything: it may be audited in one event when it ends. */
function readOnly(c: Classification): boolean {
  return c.parsed && c.statements.every((s) => READ_ONLY.has(s.class) && s.risks.length === 0);
}

/**
 * The PostgreSQL adapter's side of the operation pipeline, for one session: each statement
 * message (a simple Query, or an Execute with its bound parameters) becomes an operation with
 * its tables qualified as the server will resolve them, is decided and admitted by the pipeline,
 * gets the plan by which its results are masked, and is held for a person when policy says
 * review. Every refusal comes back as the error to answer in the statement's place, its audit
 * events on their way; an allowed statement comes back with its context.
 */
export class StatementGate {
  private held: Held | null = null;
  private closed = false;
  /** Statements refused so far. */
  denied = 0;

  constructor(
    private readonly env: Omit<Envelope, 'requestId'> & Pick<Operation, 'principal' | 'connection'>,
    private readonly searchPath: SearchPathTracker,
    private readonly deps: GateDeps,
  ) {}

  /**
   * Judges one statement message. A cached decision for a read-only statement is answered
   * without a turn of the event loop.
   */
  judge(
    c: Classification,
    sql: string,
    via: 'simple' | 'extended',
    params: Array<string | null> | undefined,
  ): Verdict | Promise<Verdict> {
    if (!tracingEnabled()) return this.judgeIn(undefined, c, sql, via, params);
    return traceOperation('airlock.postgres statement', (ids) => this.judgeIn(ids, c, sql, via, params));
  }

  private judgeIn(
    trace: TraceIds | undefined,
    c: Classification,
    sql: string,
    via: 'simple' | 'extended',
    params: Array<string | null> | undefined,
  ): Verdict | Promise<Verdict> {
    const { principal, ...base } = this.env;
    const env: Envelope = { ...base, requestId: uuidv7(), ...trace };
    const connection = this.env.connection;
    const op = (paths: SearchPath[]): Asked['op'] => {
      const operation = statementOperation(c, via, params, qualifiedStatements(c, paths));
      return { env, principal, connection, operation, audited: auditedOperation(operation), read: readOnly(c) };
    };
    let paths: SearchPath[];
    try {
      paths = this.searchPath.pathsFor(c.parsed ? c.effects?.searchPath : undefined);
    } catch (err) {
      if (!(err instanceof UntrackedSearchPathError)) throw err;
      const refused = op(this.searchPath.pathsFor(undefined));
      return this.refuse(
        env,
        [interceptedDraft(env, refused.audited)],
        new PgGatewayError(
          SqlState.InsufficientPrivilege,
          `refused: ${err.message}; set search_path with constants (SET search_path = ...)`,
          'policy',
        ),
      );
    }
    const asked: Asked = { op: op(paths), c, sql, paths };
    const decided = this.deps.pipeline.decide(asked.op);
    if (decided instanceof Promise) {
      return decided.then(
        (d) => this.admit(asked, d),
        (err: unknown) => this.refused(asked.op, err),
      );
    }
    return this.admit(asked, decided);
  }

  /**
   * A CancelRequest for this session: a statement held for approval stops waiting, its approval
   * is withdrawn, and it is answered as a cancelled statement. False when nothing is held (the
   * cancel is then for the server).
   */
  cancelHeld(): boolean {
    const held = this.held;
    if (!held) return false;
    held.abort.abort('cancelled by the client');
    return true;
  }

  /** The session ended: a held statement is recorded as cancelled and stops waiting. */
  close(reason: CloseReason): void {
    this.closed = true;
    const held = this.held;
    if (!held) return;
    this.held = null;
    this.deps.pipeline.record(
      statementFailedDraft(
        held.env,
        new PgGatewayError(
          SqlState.QueryCanceled,
          `session ended (${reason}) while the statement was held for approval`,
          'approval',
        ),
      ),
    );
    held.abort.abort(CLOSED_WHILE_HELD[reason]);
  }

  private admit(asked: Asked, decided: Decided): Verdict | Promise<Verdict> {
    let admitted: Admitted;
    try {
      admitted = this.deps.pipeline.admit(asked.op, decided);
    } catch (err) {
      return this.refused(asked.op, err);
    }
    const planned = this.context(asked, admitted);
    if (planned instanceof Promise) return planned.then((ctx) => this.admitted(asked, admitted, ctx));
    return this.admitted(asked, admitted, planned);
  }

  private admitted(
    asked: Asked,
    admitted: Admitted,
    ctx: StatementContext | PgGatewayError,
  ): Verdict | Promise<Verdict> {
    const { op, c } = asked;
    if (ctx instanceof PgGatewayError) return this.refuse(op.env, this.deps.pipeline.explain(op, admitted), ctx);
    if (admitted.review) return this.hold(asked, admitted, ctx);
    if (admitted.folded) {
      // Audited in one event when it ends (statement.completed with the operation and the decision).
      ctx.foldInto(admitted.folded.operation as Omit<PostgresOperation, 'params'>, admitted.folded.decision);
      return { ctx, classification: c };
    }
    // A statement that can change anything runs only once its audit is on the stream.
    return this.deps.pipeline.auditFirst(op.env, admitted.unsent).then(
      (): Verdict => ({ ctx, classification: c }),
      (err: unknown) => this.refused(op, err),
    );
  }

  /**
   * How an allowed statement's results are masked; an error when they cannot be as policy
   * requires, or when the statement would search or copy masked data. Planning waits for the
   * catalog only when it does not yet know a relation the statement names.
   */
  private context(
    asked: Asked,
    { decision, masker }: Admitted,
  ): StatementContext | PgGatewayError | Promise<StatementContext | PgGatewayError> {
    const { c, sql, op } = asked;
    if (masker?.masksByName && c.parsed && c.statements.some((s) => s.command === 'COPY' && s.class === 'read')) {
      return new PgGatewayError(
        SqlState.FeatureNotSupported,
        'COPY TO STDOUT cannot be masked column by column as policy requires; use SELECT',
        'masking',
      );
    }
    const literals = decision.auditLiterals ? sql : undefined;
    if (!masker?.masksByName) return new StatementContext(op.env, masker, literals);
    const relations = this.deps.relations;
    const withPlan = (plan: TextMaskPlan): StatementContext | PgGatewayError => {
      const refusal = maskedUseRefusal(plan, decision.allowMaskedSearch === true);
      if (refusal) return refusal;
      const ctx = new StatementContext(op.env, masker, literals);
      ctx.maskPlan = plan;
      // DDL may create, change or replace relations (CREATE OR REPLACE VIEW): what the catalog said before no longer holds.
      if (!c.parsed || c.statements.some((s) => s.class === 'ddl')) ctx.onStatementEnd = () => relations.forget();
      return ctx;
    };
    const plan = planText(sql, masker, everySchema(asked.paths), relations, (err) =>
      this.deps.logger.warn(
        { sessionId: op.env.sessionId, err: (err as Error).message },
        'relations unavailable from the catalog: masking what they give',
      ),
    );
    return plan instanceof Promise ? plan.then(withPlan) : withPlan(plan);
  }

  /**
   * Holds a statement policy sent for review until a person approves it, refuses it, it expires,
   * or the client cancels it or goes away. The statement's message is the one the client pump is
   * on, so everything the client sends after it waits its turn (the paused socket still sees the
   * client hang up, which ends the session and the hold); the client is told at once, with a
   * notice, what it waits for. An approved statement goes on exactly as an allowed one.
   */
  private async hold(asked: Asked, admitted: Admitted, ctx: StatementContext): Promise<Verdict> {
    const { op, sql } = asked;
    const held: Held = { abort: new AbortController(), env: op.env };
    this.held = held;
    const params = op.operation.params;
    const cancelled = new PgGatewayError(SqlState.QueryCanceled, 'canceling statement due to user request', 'approval');
    const tool = this.deps.toolHold;
    try {
      const outcome = await this.deps.pipeline.hold(op, admitted, {
        fingerprint: sqlOperationFingerprint(sql, params),
        detail: sqlApprovalDetail(sql, params),
        // Nobody can approve past the expiry: the statement waits exactly that long (a tool call
        // waits its own time and comes back).
        deadline: tool ? (_first, now) => now + tool.waitMs : (first) => Date.parse(first.expiresAt) + 1000,
        signal: held.abort.signal,
        withdraw: !tool,
        onHeld: (reply) => {
          tool?.onHeld(reply);
          this.onHeld(reply);
        },
      });
      // close() recorded the statement's end; whatever came back meanwhile is moot.
      if (this.closed) return { ctx: null, refusal: cancelled };
      switch (outcome.kind) {
        case 'approved':
          return { ctx, classification: asked.c };
        case 'pending': {
          if (tool) {
            // Its operation.held event ends the trail; the retry is an operation of its own.
            const { approvalId } = outcome.reply;
            return this.refuse(
              op.env,
              [],
              new PgGatewayError(SqlState.HeldForApproval, `statement held for approval ${approvalId}`, 'approval'),
              true,
            );
          }
          // Still pending when the wait ended (someone else used the first approval and the next
          // one outlived the first's expiry, or the gateway is shutting down).
          const { approvalId, state } = outcome.reply;
          const reason = `approval ${approvalId} was not decided in time`;
          return this.refuse(
            op.env,
            [approvalDeniedDraft(op.env, admitted.decision, approvalId, state, reason)],
            new PgGatewayError(SqlState.InsufficientPrivilege, `refused: ${reason}`, 'approval'),
            true,
          );
        }
      }
      // Aborted: the client cancelled the statement.
      return this.refuse(op.env, [], cancelled);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      if (this.closed) return { ctx: null, refusal: cancelled };
      // Its intercepted and decided events went out before the approval was asked for.
      return this.refuse(op.env, err.events, pgRefusal(err), err.recorded);
    } finally {
      if (this.held === held) this.held = null;
    }
  }

  /** The client learns what its statement waits for once the operation.held event is on the stream. */
  private onHeld(reply: ApprovalReply): void {
    if (reply.state !== 'pending' || this.closed) return;
    this.deps.notify(
      encodeNoticeResponse({
        severity: 'NOTICE',
        code: SqlState.Warning,
        message: `statement held for approval ${reply.approvalId}${reply.url ? `: ${reply.url}` : ''}`,
        detail: `It runs once approved; the approval expires at ${reply.expiresAt}.`,
        hint: 'Cancel the statement to withdraw the request.',
      }),
    );
  }

  /** A refusal of the pipeline: its events (or the intercept, when it came with none), then the statement's failure. */
  private refused(op: Operation, err: unknown): Verdict {
    if (!(err instanceof Refusal)) throw err;
    const events = err.events.length > 0 || err.recorded ? err.events : [interceptedDraft(op.env, op.audited)];
    return this.refuse(op.env, events, pgRefusal(err), err.recorded);
  }

  /**
   * Answers a statement with `error` in its place, recording `events` and, unless they already
   * end its trail, its failure.
   */
  private refuse(env: Envelope, events: AuditEventDraft[], error: PgGatewayError, recorded = false): Verdict {
    this.deps.pipeline.record(...events, ...(recorded ? [] : [statementFailedDraft(env, error)]));
    this.denied++;
    return { ctx: null, refusal: error };
  }
}
