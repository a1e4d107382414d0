import { Injectable, Logger } from '@nestjs/common';
import { Duplex, PassThrough } from 'node:stream';
import type { ApprovalReply } from '@airlock/contracts';
import {
  BackendType,
  MessageReader,
  decodeCommandComplete,
  decodeDataRow,
  decodeErrorFields,
  decodeRowDescription,
  encodeBind,
  encodeDescribe,
  encodeExecute,
  encodeParse,
  encodeQuery,
  encodeSync,
  encodeTerminate,
  type FieldDescription,
  type Frame,
} from '@airlock/pg-wire';
import type {
  PendingCall,
  RefusedCall,
  SqlStatementResult,
  SqlToolPort,
  SqlToolRequest,
  SqlToolResult,
  ToolCaller,
} from '../tool-ports/tool-ports';
import { PgGatewayService } from './pg-gateway.service';
import type { ResultPlanSeen } from './statement-results';
import { PgGatewayError, SqlState } from './pg-errors';
import { typeName } from './type-names';

/**
 * The PostgreSQL adapter as a tool port. A tool call is a short session of the wire path itself:
 * the gateway's start-up after authentication, then a PgSession on one end of an in-process pair,
 * and on the other end this class speaks the frontend protocol (one simple Query, or
 * Parse/Bind/Describe/Execute/Sync with bind parameters). Classification, policy, masking by data
 * flow, holds and audit are therefore exactly the wire path's; nothing here decides or masks.
 */
@Injectable()
export class PgToolPortService implements SqlToolPort {
  private readonly logger = new Logger(PgToolPortService.name);

  constructor(private readonly gateway: PgGatewayService) {}

  async run(caller: ToolCaller, req: SqlToolRequest): Promise<SqlToolResult | PendingCall | RefusedCall> {
    const [ours, theirs] = duplexPair();
    const frames = new FrameQueue(ours);
    let held: ApprovalReply | undefined;
    const plans: ResultPlanSeen[] = [];
    const hangUp = (): void => {
      ours.destroy();
      theirs.destroy();
    };
    caller.signal?.addEventListener('abort', hangUp, { once: true });
    try {
      try {
        await this.gateway.openForTool(caller, req.connection, theirs, {
          tool: caller.tool,
          sessionId: caller.sessionId,
          holdWaitMs: caller.holdWaitMs,
          onHeld: (reply) => {
            held = reply;
          },
          onResultPlan: (seen) => plans.push(seen),
        });
      } catch (err) {
        if (err instanceof PgGatewayError) return refused(err.sqlstate, err.publicMessage);
        throw err;
      }
      // AuthenticationOk, ParameterStatus..., BackendKeyData, ReadyForQuery.
      const hello = await frames.until(BackendType.ReadyForQuery);
      const failed = hello.find((f) => f.type === BackendType.ErrorResponse);
      if (failed) {
        const e = decodeErrorFields(failed.body);
        return refused(e.C ?? SqlState.InternalError, e.M ?? 'the session could not start');
      }
      if (req.params) {
        const params = req.params.map((p) => (p === null ? null : Buffer.from(p, 'utf8')));
        ours.write(
          Buffer.concat([
            encodeParse('', req.sql),
            encodeBind('', '', params),
            encodeDescribe('P', ''),
            encodeExecute('', 0),
            encodeSync(),
          ]),
        );
      } else {
        ours.write(encodeQuery(req.sql));
      }
      const answer = await frames.until(BackendType.ReadyForQuery);
      const result = collect(answer, req.maxRows, plans);
      if (result.error?.sqlstate === SqlState.HeldForApproval && held) {
        return { kind: 'pending', approvalId: held.approvalId, url: held.url, expiresAt: held.expiresAt };
      }
      if (result.error && result.results.length === 0 && !isServerError(result.error.sqlstate)) {
        return refused(result.error.sqlstate, result.error.message);
      }
      return result;
    } catch (err) {
      if (caller.signal?.aborted) return refused(SqlState.QueryCanceled, 'the tool call was cancelled');
      this.logger.warn({ err: (err as Error).message }, 'tool session failed');
      return refused(SqlState.ConnectionFailure, 'the database session ended unexpectedly');
    } finally {
      caller.signal?.removeEventListener('abort', hangUp);
      if (!ours.destroyed) {
        ours.end(encodeTerminate());
        // The session ends on Terminate; whatever it still writes is dropped.
        ours.resume();
        setTimeout(hangUp, 1000).unref();
      }
    }
  }
}

function refused(sqlstate: string, message: string): RefusedCall {
  return { kind: 'refused', sqlstate, message };
}

/**
 * Refusals are the gateway's (policy, approval, audit, the session itself); anything else is the
 * database's own answer to the statement, returned with the results before it.
 */
function isServerError(sqlstate: string): boolean {
  return !GATEWAY_STATES.has(sqlstate);
}
const GATEWAY_STATES: ReadonlySet<string> = new Set([
  SqlState.InsufficientPrivilege,
  SqlState.CannotConnectNow,
  SqlState.InternalError,
  SqlState.HeldForApproval,
  SqlState.QueryCanceled,
  SqlState.ProgramLimitExceeded,
]);

/**
 * The results of one statement message, from its answer frames up to ReadyForQuery. `plans` are the
 * session's masking plans in the order it made them; each result takes the first with its columns.
 */
export function collect(frames: Frame[], maxRows: number, plans: ResultPlanSeen[] = []): SqlToolResult {
  const results: SqlStatementResult[] = [];
  let current: SqlStatementResult | undefined;
  let fields: FieldDescription[] = [];
  const open = (): SqlStatementResult => {
    current ??= { command: '', columns: [], rows: [], rowCount: 0, truncated: false };
    return current;
  };
  let error: SqlToolResult['error'];
  for (const f of frames) {
    switch (f.type) {
      case BackendType.RowDescription: {
        fields = decodeRowDescription(f.body);
        const r = open();
        r.columns = fields.map((c) => ({ name: c.name, type: typeName(c.typeOid), typeOid: c.typeOid }));
        const at = plans.findIndex((p) => sameColumns(p.fields, fields));
        if (at >= 0) {
          const [plan] = plans.splice(at, 1);
          plan.columnRules.forEach((rule, i) => {
            if (rule !== null && r.columns[i]) r.columns[i].maskedBy = rule;
          });
          const masker = plan.masker;
          r.columnMask = (schema, table, column) =>
            masker?.masksByName ? (masker.columnRuleFor(schema, table, column) ?? masker.fieldRuleFor(column)) : null;
        }
        break;
      }
      case BackendType.DataRow: {
        const r = open();
        r.rowCount++;
        if (r.rows.length >= maxRows) {
          r.truncated = true;
          break;
        }
        r.rows.push(decodeDataRow(f.body).map((v) => (v === null ? null : v.toString('utf8'))));
        break;
      }
      case BackendType.CommandComplete:
        open().command = decodeCommandComplete(f.body);
        results.push(current!);
        current = undefined;
        fields = [];
        break;
      case BackendType.EmptyQueryResponse:
        current = undefined;
        break;
      case BackendType.ErrorResponse: {
        const e = decodeErrorFields(f.body);
        error = { sqlstate: e.C ?? SqlState.InternalError, message: e.M ?? 'error' };
        current = undefined;
        break;
      }
    }
  }
  return { kind: 'rows', results, ...(error ? { error } : {}) };
}

function sameColumns(a: readonly FieldDescription[], b: readonly FieldDescription[]): boolean {
  return a.length === b.length && a.every((f, i) => f.name === b[i].name && f.typeOid === b[i].typeOid);
}

/** Two connected in-memory streams: what one end writes, the other reads. */
function duplexPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const pair: [Duplex, Duplex] = [
    Duplex.from({ readable: bToA, writable: aToB }),
    Duplex.from({ readable: aToB, writable: bToA }),
  ];
  // Destroying an end (the call is over, or its caller hung up) emits an AbortError: either side
  // sees the end through 'close'; an error nobody listens to would end the whole process.
  for (const end of pair) end.on('error', () => undefined);
  return pair;
}

/** Frames read from a stream, handed out up to a frame type. */
class FrameQueue {
  private readonly reader = new MessageReader();
  private frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;

  constructor(stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      this.frames.push(...this.reader.push(chunk));
      this.waiter?.();
    });
    const end = (): void => {
      this.ended ??= new Error('the session ended');
      this.waiter?.();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  /** Every frame up to and including the first of `type`. */
  async until(type: number): Promise<Frame[]> {
    for (;;) {
      const at = this.frames.findIndex((f) => f.type === type);
      if (at >= 0) return this.frames.splice(0, at + 1);
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }
}
