import type { Duplex } from 'node:stream';
import type { Logger } from '@nestjs/common';
import { uuidv7, type ApprovalReply, type McpToolName, type Principal } from '@airlock/contracts';
import {
  BackendType,
  decodeCommandComplete,
  decodeDataRow,
  decodeFrontend,
  decodeParameterStatus,
  decodeReadyForQuery,
  decodeRowDescription,
  encodeDescribe,
  encodeErrorResponse,
  encodeParameterStatus,
  encodeParse,
  encodeQuery,
  encodeTerminate,
  type FieldDescription,
  type Frame,
  type FrontendMessage,
  type MessageReader,
} from '@airlock/pg-wire';
import type { Classification, SearchPath } from '@airlock/sql';
import type { ActiveLease } from '../credentials/lease.client';
import { sessionEndedDraft, type Envelope } from '../operation/operation-audit';
import type { ColumnOrigin } from './column-catalog';
import type { RelationLookup } from './masking-plan';
import { PgGatewayError, SqlState } from './pg-errors';
import type { UpstreamConnection } from './pg-upstream';
import type { ResultMasker } from './row-masking';
import { SEARCH_PATH_PROBE, SearchPathTracker } from './search-path-tracker';
import { ServerNames, type PendingChange, type Target } from './server-names';
import { FlowGate, SerialPump } from './serial-pump';
import { splitCommandTag, type StatementContext } from './statement-context';
import { StatementGate, type CloseReason, type StatementPipeline, type Verdict } from './statement-gate';
import { StatementResults, type ResultPlanSeen } from './statement-results';

/** A text the server refuses to parse: sent in place of a refused statement so that the server itself
 * aborts the pipeline or transaction exactly as a real error would; its error is replaced by ours. */
const REFUSAL_SQL = 'AIRLOCK REFUSED';
const REFUSAL_STATEMENT = 'airlock_refused';

/** What the session needs from the gateway; the service wires it. */
export interface PgSessionServices {
  logger: Logger;
  classify(sql: string): Classification;
  /** The operation pipeline: decisions, admission, holds, audit. */
  pipeline: StatementPipeline;
  resolveColumns(
    lease: ActiveLease,
    refs: Array<{ tableOid: number; columnAttr: number }>,
  ): Promise<Map<string, ColumnOrigin>>;
  cachedColumns(
    lease: ActiveLease,
    refs: Array<{ tableOid: number; columnAttr: number }>,
  ): Map<string, ColumnOrigin> | null;
  /** The relations the masking analysis looks up, for this lease's upstream. */
  relations(lease: ActiveLease): RelationLookup;
  onClose(session: PgSession): void;
  /** The longest statement text (Query or Parse), in bytes, the session accepts. */
  maxStatementBytes: number;
}

/**
 * A session opened for a tool call (MCP) rather than by an agent's own client: its events carry
 * protocol `mcp`, the tool and the caller's audit session, and a statement held for review waits at
 * most `holdWaitMs` for a person, then answers pending (the approval stays for the call's retry).
 */
export interface ToolSessionOrigin {
  tool: McpToolName;
  sessionId: string;
  holdWaitMs: number;
  /** Each approval a statement waits for, once its operation.held event is on the stream. */
  onHeld(reply: ApprovalReply): void;
  /** Each result's masking plan, before its rows: the tool tells the model which columns are masked. */
  onResultPlan?(seen: ResultPlanSeen): void;
}

interface Prepared {
  sql: string;
  classification: Classification;
  fields?: FieldDescription[];
}

interface Portal {
  statement: Prepared;
  params: Array<string | null>;
  fields?: FieldDescription[];
  resultFormats: number[];
}

/**
 * What the server will answer next, in the order the messages went upstream. `changes` are the
 * name changes (SQL PREPARE, DEALLOCATE, ...) a statement makes, settled when it ends.
 */
type Expectation =
  | { kind: 'query'; ctx: StatementContext | null; result: ResultMasker | null; changes: PendingChange[] }
  | { kind: 'refusal'; error: PgGatewayError; ctx: StatementContext | null; simple: boolean }
  | { kind: 'parse'; change: PendingChange }
  | { kind: 'bind'; change: PendingChange }
  | { kind: 'close'; change: PendingChange }
  | { kind: 'sync' }
  | { kind: 'describe'; target: 'S' | 'P'; name: string; internal: boolean; portal?: Portal; prepared?: Prepared }
  | {
      kind: 'execute';
      ctx: StatementContext | null;
      result: ResultMasker | null;
      portal: Portal | undefined;
      changes: PendingChange[];
    }
  /** The gateway's own search_path question; nothing of its answer reaches the client. */
  | { kind: 'probe'; answer: { setting: string; user: string } | null; release: Buffer | null };

/**
 * One agent session relayed to its upstream: every statement is classified and decided before it
 * goes upstream, every result is masked on its way back, every step is audited. The expectation
 * queue pairs each server answer with the message it answers, so that refusals, Describe
 * messages of our own and masking plans fall in the right place even when the client pipelines.
 */
export class PgSession {
  readonly id = uuidv7();
  private readonly env: Omit<Envelope, 'requestId'>;
  private readonly expectations: Expectation[] = [];
  /** Prepared statements and portals as the server holds them (see ServerNames). */
  private readonly names = new ServerNames<Prepared, Portal>();
  private readonly searchPath: SearchPathTracker;
  private toUpstream: Buffer[] = [];
  private toClient: Buffer[] = [];
  private readonly clientGate: FlowGate;
  private readonly upstreamGate: FlowGate;
  private readonly clientPump: SerialPump;
  private readonly upstreamPump: SerialPump;
  private readonly gate: StatementGate;
  private readonly results: StatementResults;
  private readonly started = performance.now();
  private statements = 0;
  private closed = false;
  private txStatus: 'I' | 'T' | 'E' = 'I';
  /** The server reported an error in the extended protocol and discards messages until the next Sync. */
  private serverSkipping = false;

  constructor(
    private readonly client: Duplex,
    private readonly clientReader: MessageReader,
    private readonly upstream: UpstreamConnection,
    readonly principal: Principal,
    readonly connection: string,
    lease: ActiveLease,
    private readonly services: PgSessionServices,
    readonly cancelKey: { processId: number; secretKey: Buffer },
    startupSearchPath: SearchPath,
    origin?: ToolSessionOrigin,
  ) {
    this.env = origin
      ? {
          sessionId: origin.sessionId,
          actor: principal,
          connection,
          protocol: 'mcp',
          tool: origin.tool,
          source: 'ingress-proxy',
        }
      : { sessionId: this.id, actor: principal, connection, protocol: 'postgres', source: 'ingress-proxy' };
    const secret = lease.secret.kind === 'postgres-password' ? lease.secret : undefined;
    this.searchPath = new SearchPathTracker(startupSearchPath, secret?.username ?? '');
    this.gate = new StatementGate({ ...this.env, principal, connection }, this.searchPath, {
      logger: services.logger,
      pipeline: services.pipeline,
      relations: services.relations(lease),
      notify: (notice) => {
        if (this.closed) return;
        this.down(notice);
        // The client pump is waiting, and only the server side flushes toward the client: now, not after the statement.
        this.flushClient();
      },
      ...(origin ? { toolHold: { waitMs: origin.holdWaitMs, onHeld: (reply) => origin.onHeld(reply) } } : {}),
    });
    this.results = new StatementResults(
      secret,
      principal.subject,
      {
        cached: (refs) => services.cachedColumns(lease, refs),
        resolve: (refs) => services.resolveColumns(lease, refs),
      },
      services.logger,
      this.id,
      origin?.onResultPlan ? (seen) => origin.onResultPlan?.(seen) : undefined,
    );
    this.clientGate = new FlowGate(client);
    this.upstreamGate = new FlowGate(upstream.socket);
    this.clientPump = new SerialPump(
      this.clientGate,
      (f) => this.fromClient(f),
      () => this.flushUpstream(),
      (err) => this.fail(err),
    );
    this.upstreamPump = new SerialPump(
      this.upstreamGate,
      (f) => this.fromUpstream(f),
      () => this.flushClient(),
      (err) => this.fail(err),
    );
  }

  get upstreamKey(): { processId: number; secretKey: Buffer } {
    return this.upstream.backendKey;
  }

  /** Starts relaying; `pendingClient` are frames the client sent right after its password. */
  start(pendingClient: Frame[]): void {
    const { socket } = this.upstream;
    this.client.on('data', (chunk: Buffer) => this.clientData(chunk));
    socket.on('data', (chunk: Buffer) => this.upstreamData(chunk));
    this.client.on('drain', () => this.upstreamGate.release('client-full'));
    socket.on('drain', () => this.clientGate.release('upstream-full'));
    this.client.on('close', () => this.close('client'));
    this.client.on('error', () => this.close('client'));
    socket.on('close', () => this.close('upstream'));
    socket.on('error', (err) => {
      this.services.logger.warn({ sessionId: this.id, err: err.message }, 'upstream connection failed');
      this.close('upstream');
    });
    if (this.upstream.pending.length > 0) this.upstreamPump.push(this.upstream.pending);
    if (pendingClient.length > 0) this.clientPump.push(pendingClient);
    socket.resume();
    this.client.resume();
  }

  /** Ends the session from outside (gateway shutdown). */
  shutdown(): void {
    if (this.closed) return;
    this.sendFatal(
      new PgGatewayError(SqlState.AdminShutdown, 'the gateway is shutting down', 'internal', { fatal: true }),
    );
    this.close('shutdown');
  }

  private clientData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.clientReader.push(chunk);
    } catch (err) {
      this.protocolFailure(err);
      return;
    }
    if (frames.length > 0) this.clientPump.push(frames);
  }

  private upstreamData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.upstream.reader.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (frames.length > 0) this.upstreamPump.push(frames);
  }

  /* ------------------------------------------------------------------ client → upstream */

  private fromClient(frame: Frame): void | Promise<void> {
    let msg: FrontendMessage;
    try {
      msg = decodeFrontend(frame);
    } catch (err) {
      this.protocolFailure(err);
      return;
    }
    switch (msg.type) {
      case 'Query':
        if (this.tooLong(msg.sql, true)) return;
        return this.query(msg.sql, frame);
      case 'Parse': {
        if (this.tooLong(msg.sql, false)) return;
        const change = this.names.parse(msg.name, { sql: msg.sql, classification: this.services.classify(msg.sql) });
        this.expect({ kind: 'parse', change });
        this.up(frame.raw);
        return;
      }
      case 'Bind':
        return this.known('S', msg.statement, (statement) => {
          const change = this.names.bind(msg.portal, {
            statement,
            params: msg.params.map((p, i) => paramText(p, msg.paramFormats, i)),
            fields: statement.fields && withFormats(statement.fields, msg.resultFormats),
            resultFormats: msg.resultFormats,
          });
          this.expect({ kind: 'bind', change });
          this.up(frame.raw);
        });
      case 'Describe':
        if (msg.target === 'S') {
          return this.known('S', msg.name, (prepared) => {
            this.expect({ kind: 'describe', target: 'S', name: msg.name, internal: false, prepared });
            this.up(frame.raw);
          });
        }
        return this.known('P', msg.name, (portal) => {
          this.expect({ kind: 'describe', target: 'P', name: msg.name, internal: false, portal });
          this.up(frame.raw);
        });
      case 'Execute':
        return this.known('P', msg.portal, (portal) => this.execute(portal, msg.portal, frame));
      case 'Close': {
        this.expect({ kind: 'close', change: this.names.close(msg.target, msg.name) });
        this.up(frame.raw);
        return;
      }
      case 'Sync':
        this.names.sync();
        this.expect({ kind: 'sync' });
        this.up(frame.raw);
        return;
      case 'Flush':
        this.up(frame.raw);
        return;
      case 'CopyData':
      case 'CopyDone':
      case 'CopyFail':
        // Only meaningful while the server is in COPY FROM STDIN for an allowed statement; otherwise
        // the server ignores (CopyData) or reports them.
        this.up(frame.raw);
        return;
      case 'Terminate':
        this.up(frame.raw);
        this.flushUpstream();
        this.close('client');
        return;
      case 'FunctionCall':
        this.statements++;
        this.refuse(
          new PgGatewayError(
            SqlState.InsufficientPrivilege,
            'function calls over the fast-path interface are not allowed through the gateway; use SELECT',
            'policy',
          ),
          null,
          true,
        );
        return;
      case 'Password':
        this.protocolFailure(new PgGatewayError(SqlState.ProtocolViolation, 'unexpected password message', 'routing'));
        return;
    }
  }

  private query(sql: string, frame: Frame): void | Promise<void> {
    this.statements++;
    const verdict = this.gate.judge(this.services.classify(sql), sql, 'simple', undefined);
    if (verdict instanceof Promise) return verdict.then((v) => this.sendQuery(v, frame));
    this.sendQuery(verdict, frame);
  }

  private sendQuery(verdict: Verdict, frame: Frame): void {
    if (verdict.refusal) {
      this.refuse(verdict.refusal, verdict.ctx, true);
      return;
    }
    this.expect({ kind: 'query', ctx: verdict.ctx, result: null, changes: this.sent(verdict.classification) });
    verdict.ctx?.forwarded();
    this.up(frame.raw);
  }

  /**
   * Runs `then` with the statement or portal the server will hold under `name` when it reaches
   * this message; waits for the server's answer when an earlier change of it is still open. A
   * name the gateway holds nothing for is refused, never forwarded: whatever the server might
   * hold under it was not decided.
   */
  private known<T extends Target>(
    target: T,
    name: string,
    then: (value: T extends 'S' ? Prepared : Portal) => void | Promise<void>,
  ): void | Promise<void> {
    const found = target === 'S' ? this.names.statement(name) : this.names.portal(name);
    if ('wait' in found) return found.wait.then(() => this.known(target, name, then));
    if (found.known) return then(found.value as T extends 'S' ? Prepared : Portal);
    const error =
      target === 'S'
        ? new PgGatewayError(
            SqlState.InvalidStatementName,
            `prepared statement "${name.slice(0, 63)}" does not exist`,
            'routing',
          )
        : new PgGatewayError(SqlState.InvalidCursorName, `portal "${name.slice(0, 63)}" does not exist`, 'routing');
    this.refuse(error, null, false);
  }

  /** A statement text over the limit is refused before it is parsed. */
  private tooLong(sql: string, simple: boolean): boolean {
    const max = this.services.maxStatementBytes;
    if (sql.length <= max / 3 || Buffer.byteLength(sql, 'utf8') <= max) return false;
    if (simple) this.statements++;
    this.refuse(
      new PgGatewayError(
        SqlState.ProgramLimitExceeded,
        `statement is longer than the gateway accepts (${max} bytes)`,
        'routing',
      ),
      null,
      simple,
    );
    return true;
  }

  /** What an allowed statement going upstream changes in the session state the gateway follows. */
  private sent(c: Classification | undefined): PendingChange[] {
    const effects = c?.parsed ? c.effects : undefined;
    if (!effects) return [];
    this.searchPath.sent(effects.searchPath);
    return [...this.names.dropBySql('S', effects.statements), ...this.names.dropBySql('P', effects.portals)];
  }

  private execute(portal: Portal, portalName: string, frame: Frame): void | Promise<void> {
    const statement = portal.statement;
    this.statements++;
    const verdict = this.gate.judge(statement.classification, statement.sql, 'extended', portal.params);
    if (verdict instanceof Promise) return verdict.then((v) => this.sendExecute(v, portal, portalName, frame));
    return this.sendExecute(verdict, portal, portalName, frame);
  }

  private sendExecute(verdict: Verdict, portal: Portal, portalName: string, frame: Frame): void | Promise<void> {
    if (verdict.refusal) {
      this.refuse(verdict.refusal, verdict.ctx, false);
      return;
    }
    const send = (result: ResultMasker | null): void => {
      const changes = this.sent(verdict.classification);
      this.expect({ kind: 'execute', ctx: verdict.ctx, result, portal, changes });
      verdict.ctx?.forwarded();
      this.up(frame.raw);
    };
    if (!portal.fields) {
      // Rows can only be masked knowing their columns: ask the server, answer kept to ourselves.
      this.expect({ kind: 'describe', target: 'P', name: portalName, internal: true, portal });
      this.up(encodeDescribe('P', portalName));
      send(null);
      return;
    }
    if (!verdict.ctx) {
      send(null);
      return;
    }
    const planned = this.results.plan(verdict.ctx, portal.fields);
    if (planned instanceof Promise) return planned.then(send);
    send(planned);
  }

  /**
   * Puts a refused statement's place in the server's stream: a text the server cannot parse, so
   * that it aborts the transaction or skips to Sync exactly as for a real error. Its error is
   * replaced by ours on the way back.
   */
  private refuse(error: PgGatewayError, ctx: StatementContext | null, simple: boolean): void {
    this.expect({ kind: 'refusal', error, ctx, simple });
    this.up(simple ? encodeQuery(REFUSAL_SQL) : encodeParse(REFUSAL_STATEMENT, REFUSAL_SQL, []));
  }

  /* ------------------------------------------------------------------ upstream → client */

  private fromUpstream(frame: Frame): void | Promise<void> {
    const head = this.expectations[0];
    if (head?.kind === 'probe') {
      this.probeAnswer(head, frame);
      return;
    }
    switch (frame.type) {
      case BackendType.DataRow:
        this.dataRow(head, frame);
        return;
      case BackendType.RowDescription:
        return this.rowDescription(head, frame);
      case BackendType.CommandComplete:
      case BackendType.EmptyQueryResponse:
      case BackendType.PortalSuspended: {
        const tag = frame.type === BackendType.CommandComplete ? decodeCommandComplete(frame.body) : '';
        if (head?.kind === 'execute') {
          this.expectations.shift();
          this.settle(head, 'confirm');
          if (head.ctx) this.finishStatement(head.ctx, tag, frame.type === BackendType.PortalSuspended);
        } else if (head?.kind === 'query') {
          if (head.ctx) this.finishStatement(head.ctx, tag, false);
          head.result = null;
        }
        this.down(frame.raw);
        return;
      }
      case BackendType.ReadyForQuery: {
        this.txStatus = decodeReadyForQuery(frame.body);
        // Everything up to the Sync or Query this answers is settled now (skipped after an error).
        while (this.expectations.length > 0) {
          const e = this.expectations.shift()!;
          if (e.kind === 'query') this.settle(e, 'confirm');
          if (e.kind === 'sync' || e.kind === 'query' || (e.kind === 'refusal' && e.simple)) break;
          this.skipped(e);
        }
        // Outside a transaction block the server holds no portal of the protocol any more.
        if (this.txStatus === 'I') this.names.transactionEnded();
        // The client hears the session is ready once the gateway knows its search_path again.
        if (!this.probeIfIdle(frame.raw)) this.down(frame.raw);
        return;
      }
      case BackendType.ErrorResponse:
        this.errorResponse(head, frame);
        return;
      case BackendType.NoticeResponse:
        this.down(this.results.notice(frame, ctxOf(head)));
        return;
      case BackendType.ParseComplete:
      case BackendType.BindComplete:
      case BackendType.CloseComplete: {
        const kind =
          frame.type === BackendType.ParseComplete
            ? 'parse'
            : frame.type === BackendType.BindComplete
              ? 'bind'
              : 'close';
        if (head?.kind !== kind) {
          throw new PgGatewayError(
            SqlState.ProtocolViolation,
            'the server confirmed a message the gateway did not send',
            'upstream',
          );
        }
        this.expectations.shift();
        this.settle(head, 'confirm');
        this.down(frame.raw);
        return;
      }
      case BackendType.NoData:
        if (head?.kind === 'describe') {
          this.expectations.shift();
          if (!head.internal) this.down(frame.raw);
          return this.describeAnswered(head, []);
        }
        this.down(frame.raw);
        return;
      case BackendType.ParameterDescription:
        this.down(frame.raw);
        return;
      case BackendType.ParameterStatus: {
        const p = decodeParameterStatus(frame.body);
        this.down(encodeParameterStatus(p.name, this.results.parameter(p.name, p.value)));
        return;
      }
      case BackendType.CopyInResponse:
      case BackendType.CopyOutResponse:
      case BackendType.CopyDone:
      case BackendType.NotificationResponse:
      case BackendType.FunctionCallResponse:
      case BackendType.NegotiateProtocolVersion:
        this.down(frame.raw);
        return;
      case BackendType.CopyData:
        this.down(this.results.copyData(frame, ctxOf(head)));
        return;
      default:
        throw new PgGatewayError(
          SqlState.ProtocolViolation,
          `unexpected message from the server (${String.fromCharCode(frame.type)})`,
          'upstream',
        );
    }
  }

  private dataRow(head: Expectation | undefined, frame: Frame): void {
    const result = head && (head.kind === 'query' || head.kind === 'execute') ? head.result : null;
    const ctx = head && (head.kind === 'query' || head.kind === 'execute') ? head.ctx : null;
    if (!result || !ctx) {
      // Rows that no allowed statement of ours explains cannot be masked to a plan: nothing passes unexamined.
      throw new PgGatewayError(
        SqlState.InternalError,
        'the server sent rows the gateway cannot account for',
        'masking',
      );
    }
    this.down(result.maskRow(frame.body, frame.raw, ctx));
  }

  private rowDescription(head: Expectation | undefined, frame: Frame): void | Promise<void> {
    const fields = decodeRowDescription(frame.body);
    if (head?.kind === 'describe') {
      this.expectations.shift();
      if (!head.internal) this.down(frame.raw);
      return this.describeAnswered(head, fields);
    }
    this.down(frame.raw);
    if (head?.kind === 'query' && head.ctx) {
      const ctx = head.ctx;
      const pending = this.results.plan(ctx, fields);
      if (pending instanceof Promise) {
        return pending.then((r) => {
          head.result = r;
        });
      }
      head.result = pending;
    }
  }

  private describeAnswered(
    head: Extract<Expectation, { kind: 'describe' }>,
    fields: FieldDescription[],
  ): void | Promise<void> {
    if (head.target === 'S') {
      if (head.prepared) head.prepared.fields = fields;
    } else if (head.portal) {
      head.portal.fields = withFormats(fields, head.portal.resultFormats);
    }
    // An Execute queued behind this Describe gets its masking plan now that the columns are known.
    const next = this.expectations.find((e) => e.kind === 'execute' && e.portal === head.portal);
    if (next && next.kind === 'execute' && next.ctx && head.portal?.fields) {
      const planned = this.results.plan(next.ctx, head.portal.fields);
      if (!(planned instanceof Promise)) {
        next.result = planned;
        return;
      }
      // The server's rows wait until the plan is known.
      return planned.then((r) => {
        next.result = r;
      });
    }
  }

  private errorResponse(head: Expectation | undefined, frame: Frame): void {
    if (head?.kind === 'refusal') {
      // The server refused our stand-in text: the agent gets the real reason instead.
      if (!head.simple) this.expectations.shift();
      this.down(
        encodeErrorResponse({
          severity: 'ERROR',
          code: head.error.sqlstate,
          message: head.error.publicMessage,
          hint: head.error.hint,
        }),
      );
      if (!head.simple) this.dropUntilSync();
      return;
    }
    const { message: masked, sqlstate } = this.results.error(frame, ctxOf(head));
    if (head?.kind === 'query') {
      if (head.ctx) this.services.pipeline.record(head.ctx.completion('ERROR', 0, sqlstate));
      head.result = null;
    } else if (head && head.kind !== 'sync') {
      this.expectations.shift();
      this.settle(head, 'fail');
      if (head.kind === 'execute' && head.ctx) this.services.pipeline.record(head.ctx.completion('ERROR', 0, sqlstate));
      this.dropUntilSync();
    }
    this.down(masked);
  }

  /**
   * After an error in the extended protocol the server skips everything until Sync: also what
   * the gateway sends later, when the client's Sync is not upstream yet (a decision still out).
   */
  private dropUntilSync(): void {
    while (this.expectations.length > 0 && this.expectations[0].kind !== 'sync') {
      this.skipped(this.expectations.shift()!);
    }
    if (this.expectations.length === 0) this.serverSkipping = true;
  }

  /** An expectation that will get no answer: its statement, if any, is audited as not completed. */
  private skipped(e: Expectation, reason = 'not run: an earlier message of the pipeline failed'): void {
    this.settle(e, 'skip');
    if ((e.kind === 'execute' || e.kind === 'refusal' || e.kind === 'query') && e.ctx && !e.ctx.finished) {
      this.services.pipeline.record(e.ctx.failure('upstream', reason, SqlState.InFailedTransaction));
    }
  }

  private finishStatement(ctx: StatementContext, tag: string, suspended: boolean): void {
    const { command, rows } = splitCommandTag(tag);
    this.services.pipeline.record(ctx.completion(suspended ? 'SUSPENDED' : command, rows));
    ctx.finished = true;
  }

  /**
   * Settles the name changes an expectation carries. Changes made by SQL (DEALLOCATE, PREPARE,
   * ...) count as done whatever the outcome: the gateway then holds less than the server, never
   * something else.
   */
  private settle(e: Expectation, outcome: 'confirm' | 'fail' | 'skip'): void {
    switch (e.kind) {
      case 'parse':
      case 'bind':
      case 'close':
        this.names[outcome](e.change);
        return;
      case 'query':
      case 'execute':
        for (const c of e.changes.splice(0)) this.names.confirm(c);
        return;
    }
  }

  /**
   * When the session is idle and its search_path may have changed, asks the server for it; the
   * client's ReadyForQuery (`release`) is passed on with the answer. False when it did not ask.
   */
  private probeIfIdle(release: Buffer | null): boolean {
    if (this.expectations.length > 0 || this.txStatus !== 'I' || !this.searchPath.wantsProbe || this.closed) {
      return false;
    }
    this.searchPath.probeSent();
    this.expect({ kind: 'probe', answer: null, release });
    this.up(encodeQuery(SEARCH_PATH_PROBE));
    this.flushUpstream();
    return true;
  }

  private probeAnswer(head: Extract<Expectation, { kind: 'probe' }>, frame: Frame): void {
    switch (frame.type) {
      case BackendType.DataRow: {
        const [setting, user] = decodeDataRow(frame.body);
        head.answer = setting && user ? { setting: setting.toString('utf8'), user: user.toString('utf8') } : null;
        return;
      }
      case BackendType.ReadyForQuery:
        this.expectations.shift();
        this.txStatus = decodeReadyForQuery(frame.body);
        this.searchPath.probeAnswered(head.answer);
        if (head.release && !this.probeIfIdle(head.release)) this.down(head.release);
        return;
      case BackendType.ErrorResponse:
        head.answer = null;
        this.services.logger.warn({ sessionId: this.id }, 'the search_path question failed');
        return;
      case BackendType.NoticeResponse:
      case BackendType.ParameterStatus:
      case BackendType.NotificationResponse:
        // Not an answer to the question: handled as at any other time.
        this.expectations.shift();
        try {
          void this.fromUpstream(frame);
        } finally {
          this.expectations.unshift(head);
        }
        return;
      default:
        // RowDescription, CommandComplete: the question's own answer, kept from the client.
        return;
    }
  }

  /**
   * A CancelRequest for this session: a statement held for approval stops waiting, its approval
   * is withdrawn, and it is answered as a cancelled statement. False when nothing is held (the
   * cancel is then for the server).
   */
  cancelHeld(): boolean {
    return this.gate.cancelHeld();
  }

  /* ------------------------------------------------------------------ plumbing */

  private expect(e: Expectation): void {
    if (this.serverSkipping) {
      // The server will discard the message unanswered, up to the next Sync.
      if (e.kind !== 'sync') {
        this.skipped(e);
        return;
      }
      this.serverSkipping = false;
    }
    this.expectations.push(e);
  }

  private up(buf: Buffer): void {
    this.toUpstream.push(buf);
  }

  private down(buf: Buffer): void {
    this.toClient.push(buf);
  }

  private flushUpstream(): void {
    if (this.toUpstream.length === 0 || this.closed) return;
    const out = this.toUpstream.length === 1 ? this.toUpstream[0] : Buffer.concat(this.toUpstream);
    this.toUpstream = [];
    if (!this.upstream.socket.write(out)) this.clientGate.hold('upstream-full');
  }

  private flushClient(): void {
    if (this.toClient.length === 0 || this.closed) return;
    const out = this.toClient.length === 1 ? this.toClient[0] : Buffer.concat(this.toClient);
    this.toClient = [];
    if (!this.client.write(out)) this.upstreamGate.hold('client-full');
  }

  private sendFatal(error: PgGatewayError): void {
    this.flushClient();
    if (!this.client.destroyed) {
      this.client.write(
        encodeErrorResponse({
          severity: 'FATAL',
          code: error.sqlstate,
          message: error.publicMessage,
          hint: error.hint,
        }),
      );
    }
  }

  private protocolFailure(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.services.logger.warn({ sessionId: this.id, err: message }, 'protocol violation by the client: closing');
    this.sendFatal(
      new PgGatewayError(SqlState.ProtocolViolation, `invalid message: ${message}`, 'routing', { fatal: true }),
    );
    this.close('error');
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    const message = err instanceof Error ? err.message : String(err);
    this.services.logger.error({ sessionId: this.id, err: message }, 'session failed: closing');
    const error =
      err instanceof PgGatewayError
        ? err
        : new PgGatewayError(
            SqlState.InternalError,
            'the gateway ended the session after an internal error',
            'internal',
          );
    this.sendFatal(error);
    this.close('error');
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.clientPump.stop();
    this.upstreamPump.stop();
    this.gate.close(reason);
    for (const e of this.expectations.splice(0))
      this.skipped(e, `session ended (${reason}) before the statement finished`);
    const { socket } = this.upstream;
    if (!socket.destroyed) {
      if (reason !== 'client') socket.end(encodeTerminate());
      else socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    }
    if (!this.client.destroyed) {
      this.client.end();
      setTimeout(() => this.client.destroy(), 1000).unref();
    }
    this.services.pipeline.record(
      sessionEndedDraft(this.env, uuidv7(), {
        reason,
        durationMs: performance.now() - this.started,
        statements: this.statements,
        denied: this.gate.denied,
      }),
    );
    this.services.onClose(this);
  }

  /** For tests and diagnostics. */
  get transactionStatus(): 'I' | 'T' | 'E' {
    return this.txStatus;
  }
}

/** A bind parameter as policy sees it: text as it is, binary as \x hex (as bytea prints). */
function paramText(value: Buffer | null, formats: number[], i: number): string | null {
  if (value === null) return null;
  const format = formats.length === 0 ? 0 : formats.length === 1 ? formats[0] : formats[i];
  return format === 1 ? `\\x${value.toString('hex')}` : value.toString('utf8');
}

/** Fields with the result formats a Bind asked for (a statement's Describe reports text). */
function withFormats(fields: FieldDescription[], formats: number[]): FieldDescription[] {
  if (formats.length === 0) return fields;
  return fields.map((f, i) => ({ ...f, format: formats.length === 1 ? formats[0] : (formats[i] ?? 0) }));
}

/** The statement an expected answer belongs to, if any. */
function ctxOf(head: Expectation | undefined): StatementContext | null {
  return head && 'ctx' in head ? head.ctx : null;
}
