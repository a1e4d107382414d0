import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuditProtocol, Decision } from '@airlock/contracts';

/** What a session search may ask for: a policy decision, or an approval granted. */
export type SessionDecision = Decision | 'approved';
import { UnavailableError } from '../errors';
import type { TimeRange } from './time-range';

export interface SessionFilter {
  range: TimeRange;
  subject: string | null;
  issuer: string | null;
  connection: string | null;
  protocol: AuditProtocol | null;
  decision: SessionDecision | null;
  hasMasking: boolean | null;
  /** The sort key of the last session of the previous page. */
  after: { startedAt: string; sessionId: string } | null;
  limit: number;
}

export interface SessionRow {
  session_id: string;
  /** first_at in UTC to the microsecond: the sort key, exactly. */
  started_key: string;
  started_at: Date;
  ended_at: Date;
  issuer: string | null;
  subject: string | null;
  connection: string | null;
  protocol: AuditProtocol;
  events: string;
  operations: string;
  allowed: string;
  denied: string;
  reviewed: string;
  approved: string;
  masked: string;
}

export interface EventRow {
  chain: number;
  seq: string;
  prev_hash: Buffer;
  hash: Buffer;
  event: Record<string, unknown>;
}

/** An event as exported: `event` is the stored JSON text, passed on without parsing. */
export interface ExportRow {
  chain: number;
  seq: string;
  prev_hash: Buffer;
  hash: Buffer;
  event: string;
}

/** Where a page of an ordered read starts: after this (chain, seq). */
export interface ChainPosition {
  chain: number;
  seq: string;
}

/*
 * Every time range becomes a range of ids (UUIDv7 carry their time), so PostgreSQL reads only
 * the day partitions it covers. Optional filters are parameters that may be null: one statement
 * text per query, whatever the caller asks.
 */

/*
 * Sessions are read from their summaries (audit_session), which the recorder keeps in the
 * transaction that stores their events: a listing reads at most `limit` rows of an index on the
 * start time (or on principal or connection and the start time), whatever the size of the store.
 */
const SESSION_COLUMNS = `
  session_id,
  to_char(first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_key,
  first_at AS started_at, last_at AS ended_at, issuer, subject, connection, protocol,
  events, operations, allowed, denied, reviewed, approved, masked`;

const SESSIONS = `
  SELECT ${SESSION_COLUMNS}
    FROM audit_session
   WHERE first_at >= $1::timestamptz AND first_at < $2::timestamptz
     AND ($3::text IS NULL OR (subject = $3::text AND ($4::text IS NULL OR issuer = $4::text)))
     AND ($5::text IS NULL OR connection = $5::text)
     AND ($6::text IS NULL OR protocol = $6::text)
     AND ($7::text IS NULL OR CASE $7::text WHEN 'allow' THEN allowed > 0 WHEN 'deny' THEN denied > 0
                                            WHEN 'review' THEN reviewed > 0 WHEN 'approved' THEN approved > 0 END)
     AND ($8::boolean IS NULL OR (masked > 0) = $8::boolean)
     AND ($9::timestamptz IS NULL OR (first_at, session_id) < ($9::timestamptz, $10::uuid))
   ORDER BY first_at DESC, session_id DESC
   LIMIT $11`;

const SESSION = `SELECT ${SESSION_COLUMNS} FROM audit_session WHERE session_id = $1::uuid`;

const SESSION_EVENTS = `
  SELECT chain, seq, prev_hash, hash, event
    FROM audit_event
   WHERE session_id = $1::uuid AND ($2::bigint IS NULL OR (seq, chain) > ($2::bigint, $3::int))
   ORDER BY seq, chain
   LIMIT $4`;

const SESSION_EXISTS = `SELECT EXISTS (SELECT 1 FROM audit_event WHERE session_id = $1::uuid) AS found`;

const EXPORT_PAGE = `
  SELECT chain, seq, prev_hash, hash, event::text AS event
    FROM audit_event
   WHERE id >= audit_uuid_floor($1::timestamptz) AND id < audit_uuid_floor($2::timestamptz)
     AND (chain, seq) > ($3::int, $4::bigint)
   ORDER BY chain, seq
   LIMIT $5`;

/** Reads the audit store for replay, search and export. Never writes. */
@Injectable()
export class ReplayRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Sessions that started in the range and pass every filter, newest first. */
  sessions(f: SessionFilter): Promise<SessionRow[]> {
    return this.query<SessionRow>(SESSIONS, [
      f.range.from,
      f.range.to,
      f.subject,
      f.issuer,
      f.connection,
      f.protocol,
      f.decision,
      f.hasMasking,
      f.after?.startedAt ?? null,
      f.after?.sessionId ?? null,
      f.limit,
    ]);
  }

  async session(sessionId: string): Promise<SessionRow | null> {
    const [row] = await this.query<SessionRow>(SESSION, [sessionId]);
    return row ?? null;
  }

  /** A session's events in recorded order, after `after` (exclusive) when given. */
  sessionEvents(sessionId: string, after: ChainPosition | null, limit: number): Promise<EventRow[]> {
    return this.query<EventRow>(SESSION_EVENTS, [sessionId, after?.seq ?? null, after?.chain ?? null, limit]);
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    const [row] = await this.query<{ found: boolean }>(SESSION_EXISTS, [sessionId]);
    return row.found;
  }

  /** The events of a range in (chain, seq) order, after `after` (exclusive). */
  exportPage(range: TimeRange, after: ChainPosition, limit: number): Promise<ExportRow[]> {
    return this.query<ExportRow>(EXPORT_PAGE, [range.from, range.to, after.chain, after.seq, limit]);
  }

  private async query<R>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.db.query(sql, params)) as R[];
    } catch (err) {
      if (isUnavailable(err))
        throw new UnavailableError('the audit store is unavailable; try again later', { cause: err });
      throw err;
    }
  }
}

/**
 * The database did not answer (no connection, shut down, overloaded, statement cancelled), as
 * opposed to refusing the statement, which is a fault of this code and answered as such.
 */
export function isUnavailable(err: unknown): boolean {
  const e = err as { driverError?: { code?: unknown }; code?: unknown };
  const code = e.driverError?.code ?? e.code;
  if (typeof code !== 'string') return true;
  // SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention, cancelled);
  // Node's system errors (ECONNREFUSED, ETIMEDOUT, ...) all start with E, no SQLSTATE class does.
  return /^(08|53|57)/.test(code) || code.startsWith('E');
}
