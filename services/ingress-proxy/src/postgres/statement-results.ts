import type { Logger } from '@nestjs/common';
import type { Masker } from '@airlock/masking';
import { BackendType, decodeErrorFields, type FieldDescription, type Frame } from '@airlock/pg-wire';
import type { ColumnOrigin } from './column-catalog';
import { CredentialScrubber, ResultMasker, maskServerMessage, withholdServerMessage } from './row-masking';
import type { StatementContext } from './statement-context';

/** Column origins of a result's fields: known ones at once, the others from the catalog. */
export interface ColumnLookup {
  cached(refs: FieldDescription[]): Map<string, ColumnOrigin> | null;
  resolve(refs: FieldDescription[]): Promise<Map<string, ColumnOrigin>>;
}

/** What a result's masking plan is, for a session opened for a tool call (see ToolSessionOrigin.onResultPlan). */
export interface ResultPlanSeen {
  fields: readonly FieldDescription[];
  /** Per column, the rule that masks it whole. */
  columnRules: ReadonlyArray<string | null>;
  /** The statement's masker (policy's rules for it), if any. */
  masker: Masker | undefined;
}

/**
 * How one session's results are masked on their way back: the plan of each result (by column
 * origin and by the statement's data flow), COPY rows, the server's notices and errors, and the
 * parameters it reports. The credential the gateway logged in with is scrubbed from all of them.
 */
export class StatementResults {
  private readonly scrubber: CredentialScrubber;

  constructor(
    credential: { username: string; password: string } | undefined,
    private readonly sessionUser: string,
    private readonly columns: ColumnLookup,
    private readonly logger: Logger,
    private readonly sessionId: string,
    private readonly onPlan?: (seen: ResultPlanSeen) => void,
  ) {
    this.scrubber = new CredentialScrubber(credential ? [credential.password, credential.username] : []);
  }

  /** The masking plan of one result; resolving column origins needs the catalog the first time. */
  plan(ctx: StatementContext, fields: FieldDescription[]): ResultMasker | Promise<ResultMasker> {
    const planned = this.planOf(ctx, fields);
    const onPlan = this.onPlan;
    if (!onPlan) return planned;
    const seen = (r: ResultMasker): ResultMasker => {
      onPlan({ fields, columnRules: r.columnRules, masker: ctx.masker });
      return r;
    };
    return planned instanceof Promise ? planned.then(seen) : seen(planned);
  }

  private planOf(ctx: StatementContext, fields: FieldDescription[]): ResultMasker | Promise<ResultMasker> {
    const masker = ctx.masker;
    // Masking by data flow: the result of the text's statement whose turn it is (each ends with a CommandComplete).
    const flowRules = ctx.maskPlan?.resultRules(ctx.completed, fields);
    const refs = masker?.masksByName ? fields.filter((f) => f.tableOid !== 0) : [];
    if (refs.length === 0) return new ResultMasker(masker, this.scrubber, fields, new Map(), flowRules);
    // Known columns need no wait: the rows that follow are masked without a turn of the event loop.
    const known = this.columns.cached(refs);
    if (known) return new ResultMasker(masker, this.scrubber, fields, known, flowRules);
    return this.columns.resolve(refs).then(
      (found) =>
        new ResultMasker(masker, this.scrubber, fields, new Map<string, ColumnOrigin | null>(found), flowRules),
      (err) => {
        this.logger.warn(
          { sessionId: this.sessionId, err: (err as Error).message },
          'column origins unavailable: masking those columns',
        );
        const origins = new Map<string, ColumnOrigin | null>(refs.map((f) => [`${f.tableOid}:${f.columnAttr}`, null]));
        return new ResultMasker(masker, this.scrubber, fields, origins, flowRules);
      },
    );
  }

  /** A COPY TO STDOUT row: a text line the detectors and the credential scrub apply to. */
  copyData(frame: Frame, ctx: StatementContext | null): Buffer {
    const masker = ctx?.masker;
    const stats = ctx ?? { rows: 0, rowsMasked: 0, counts: {} };
    const text = frame.body.toString('latin1');
    let m = masker?.mayDetect(text) ? masker.maskValue(text, stats.counts) : text;
    if (this.scrubber.occursIn(frame.body)) m = this.scrubber.scrubText(m, stats.counts);
    if (m === text) return frame.raw;
    stats.rowsMasked++;
    const body = Buffer.from(m, 'latin1');
    const out = Buffer.allocUnsafe(5 + body.length);
    out[0] = BackendType.CopyData;
    out.writeInt32BE(4 + body.length, 1);
    body.copy(out, 5);
    return out;
  }

  /** A NoticeResponse, masked as the statement it concerns. */
  notice(frame: Frame, ctx: StatementContext | null): Buffer {
    return maskServerMessage('N', frame.body, frame.raw, ctx?.masker, this.scrubber, {});
  }

  /**
   * An ErrorResponse, masked as the statement it concerns, with its SQLSTATE. A statement that
   * reads masked data may have the server quote it (invalid input syntax for type integer:
   * "078-..."): its error says nothing.
   */
  error(frame: Frame, ctx: StatementContext | null): { message: Buffer; sqlstate: string } {
    const message = ctx?.maskPlan?.touchesMasked
      ? withholdServerMessage(frame.body)
      : maskServerMessage('E', frame.body, frame.raw, ctx?.masker, this.scrubber, {});
    return { message, sqlstate: decodeErrorFields(frame.body).C ?? 'XX000' };
  }

  /** A parameter the server reports: its own identity stays hidden, the session user is the agent's. */
  parameter(name: string, value: string): string {
    if (name === 'session_authorization') return this.sessionUser.slice(0, 63);
    return this.scrubber.scrubText(value, {});
  }
}
