import { Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { causeText } from '@airlock/runtime';
import { InvalidInputError, NotFoundError } from '../errors';
import { EventCursorSchema, SessionCursorSchema, decodeCursor, encodeCursor, type SessionCursor } from './dto/cursor';
import type { ExportQuery, SessionEventsQuery, SessionsQuery } from './dto/replay-query.dto';
import type { EventPage, ReplayedEvent, SessionPage, SessionSummary } from '@airlock/contracts';
import {
  ReplayRepository,
  type ChainPosition,
  type EventRow,
  type ExportRow,
  type SessionRow,
} from './replay.repository';
import { summarize } from './summary';
import { REPLAY_CLOCK, resolveRange, type Clock, type TimeRange } from './time-range';

/** The longest time range a session listing covers. */
export const SESSIONS_MAX_DAYS = 31;
/** The longest time range one export covers. */
export const EXPORT_MAX_DAYS = 31;
/** Events read from the store per round trip of an export. */
export const EXPORT_PAGE_SIZE = 1000;

/** Replay and search of the audit store: sessions, a session's events, and the export of a range. */
@Injectable()
export class ReplayService {
  private readonly logger = new Logger(ReplayService.name);

  constructor(
    private readonly repository: ReplayRepository,
    @Inject(REPLAY_CLOCK) private readonly clock: Clock,
  ) {}

  async sessions(q: SessionsQuery): Promise<SessionPage> {
    const cursor = q.cursor === undefined ? null : decodeCursor(SessionCursorSchema, q.cursor);
    const range = resolveRange(cursor ? rangeOfCursor(cursor, q) : q, this.clock(), SESSIONS_MAX_DAYS);
    const rows = await this.repository.sessions({
      range,
      subject: q.principal ?? null,
      issuer: q.issuer ?? null,
      connection: q.connection ?? null,
      protocol: q.protocol ?? null,
      decision: q.decision ?? null,
      hasMasking: q.hasMasking ?? null,
      after: cursor && { startedAt: cursor.startedAt, sessionId: cursor.sessionId },
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const nextCursor =
      rows.length > q.limit && last
        ? encodeCursor(SessionCursorSchema, { ...range, startedAt: last.started_key, sessionId: last.session_id })
        : null;
    return { items: page.map(sessionView), nextCursor };
  }

  async session(sessionId: string): Promise<SessionSummary> {
    const row = await this.repository.session(sessionId);
    if (!row) throw new NotFoundError(`no session ${sessionId} is stored`);
    return sessionView(row);
  }

  async events(sessionId: string, q: SessionEventsQuery): Promise<EventPage> {
    const after = q.cursor === undefined ? null : decodeCursor(EventCursorSchema, q.cursor);
    const rows = await this.repository.sessionEvents(
      sessionId,
      after && { chain: after.chain, seq: String(after.seq) },
      q.limit + 1,
    );
    if (rows.length === 0 && (after === null || !(await this.repository.sessionExists(sessionId)))) {
      throw new NotFoundError(`no events of session ${sessionId} are stored`);
    }
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const nextCursor =
      rows.length > q.limit && last
        ? encodeCursor(EventCursorSchema, { seq: Number(last.seq), chain: last.chain })
        : null;
    return { sessionId, items: page.map(replayedView), nextCursor };
  }

  /**
   * The range's events as NDJSON, in (chain, seq) order, read a page at a time as the client
   * takes them. The first page is read before anything is sent, so a store that does not answer
   * gets a proper error; a failure later cuts the stream (and is logged).
   */
  async export(q: ExportQuery): Promise<Readable> {
    const range = resolveRange(q, this.clock(), EXPORT_MAX_DAYS);
    const first = await this.repository.exportPage(range, START, EXPORT_PAGE_SIZE);
    return Readable.from(this.exportLines(range, first), { objectMode: false });
  }

  private async *exportLines(range: TimeRange, first: ExportRow[]): AsyncGenerator<string> {
    let rows = first;
    try {
      for (;;) {
        if (rows.length > 0) yield rows.map(exportLine).join('');
        if (rows.length < EXPORT_PAGE_SIZE) return;
        const last = rows[rows.length - 1];
        rows = await this.repository.exportPage(range, { chain: last.chain, seq: last.seq }, EXPORT_PAGE_SIZE);
      }
    } catch (err) {
      this.logger.error({ err: causeText(err), from: range.from, to: range.to }, 'export cut short');
      throw err;
    }
  }
}

/** Before the first event of every chain. */
const START: ChainPosition = { chain: -1, seq: '0' };

/**
 * A page after the first keeps the range of the first; a range given again must be the same. The
 * range is checked again all the same: a cursor is opaque, not sealed.
 */
function rangeOfCursor(cursor: SessionCursor, q: { from?: string; to?: string }): TimeRange {
  const differs = (given: string | undefined, pinned: string) =>
    given !== undefined && Date.parse(given) !== Date.parse(pinned);
  if (differs(q.from, cursor.from) || differs(q.to, cursor.to)) {
    throw new InvalidInputError('cursor: it belongs to a listing of another time range');
  }
  return { from: cursor.from, to: cursor.to };
}

function sessionView(r: SessionRow): SessionSummary {
  return {
    sessionId: r.session_id,
    principal: r.subject !== null && r.issuer !== null ? { issuer: r.issuer, subject: r.subject } : null,
    connection: r.connection,
    protocol: r.protocol,
    startedAt: r.started_at.toISOString(),
    endedAt: r.ended_at.toISOString(),
    events: Number(r.events),
    operations: Number(r.operations),
    decisions: {
      allow: Number(r.allowed),
      deny: Number(r.denied),
      review: Number(r.reviewed),
      approved: Number(r.approved),
    },
    masked: Number(r.masked),
  };
}

function replayedView(r: EventRow): ReplayedEvent {
  return {
    chain: r.chain,
    seq: Number(r.seq),
    prevHash: r.prev_hash.toString('hex'),
    hash: r.hash.toString('hex'),
    event: r.event,
    summary: summarize(r.event),
  };
}

/** One NDJSON line; the stored JSON text of the event is embedded as it is. */
function exportLine(r: ExportRow): string {
  return `{"chain":${r.chain},"seq":${r.seq},"prevHash":"${r.prev_hash.toString('hex')}","hash":"${r.hash.toString('hex')}","event":${r.event}}\n`;
}
