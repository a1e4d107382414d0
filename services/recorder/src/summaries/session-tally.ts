import type { AuditEvent } from '@airlock/contracts';

/** What one batch adds to one session's summary. */
export interface SessionDelta {
  sessionId: string;
  issuer: string | null;
  subject: string | null;
  connection: string | null;
  protocol: string;
  firstAt: string;
  lastAt: string;
  firstMs: number;
  lastMs: number;
  events: number;
  operations: number;
  allowed: number;
  denied: number;
  reviewed: number;
  approved: number;
  masked: number;
}

type Data = Record<string, unknown> | undefined;

/** The decision an event records: operation.decided's own, or the one a folded outcome event carries. */
function decisionOf(type: string, data: Data): unknown {
  if (type === 'operation.decided') return data?.decision;
  if (
    type === 'operation.completed' ||
    type === 'operation.failed' ||
    type === 'statement.completed' ||
    type === 'statement.failed'
  ) {
    return (data?.decision as Data)?.decision;
  }
  return undefined;
}

/**
 * An operation is counted once, by the event that brings it into the trail: its
 * operation.intercepted, or for one audited in a single event (a read-only statement, a folded
 * HTTP request), the outcome event that carries the operation.
 */
function startsOperation(type: string, data: Data): boolean {
  if (type === 'operation.intercepted') return true;
  return (
    (type === 'operation.completed' ||
      type === 'operation.failed' ||
      type === 'statement.completed' ||
      type === 'statement.failed') &&
    data?.operation !== undefined
  );
}

function maskedOf(type: string, data: Data): number {
  if (type !== 'operation.completed' && type !== 'statement.completed') return 0;
  const masked = data?.masked;
  if (masked === null || typeof masked !== 'object') return 0;
  let n = 0;
  for (const v of Object.values(masked)) if (typeof v === 'number' && Number.isFinite(v) && v > 0) n += v;
  return n;
}

/**
 * Adds up the events of one batch per session, so that the summaries of a batch are written with
 * one statement, whatever the number of events.
 */
export class SessionTally {
  private readonly sessions = new Map<string, SessionDelta>();

  add(event: AuditEvent): void {
    const data = (event as { data?: Data }).data;
    const ms = Date.parse(event.time);
    let s = this.sessions.get(event.sessionId);
    if (!s) {
      s = {
        sessionId: event.sessionId,
        issuer: null,
        subject: null,
        connection: null,
        protocol: event.protocol,
        firstAt: event.time,
        lastAt: event.time,
        firstMs: ms,
        lastMs: ms,
        events: 0,
        operations: 0,
        allowed: 0,
        denied: 0,
        reviewed: 0,
        approved: 0,
        masked: 0,
      };
      this.sessions.set(event.sessionId, s);
    }
    if (s.subject === null && event.actor) {
      s.issuer = event.actor.issuer;
      s.subject = event.actor.subject;
    }
    if (s.connection === null && event.connection !== null) s.connection = event.connection;
    if (ms < s.firstMs) {
      s.firstMs = ms;
      s.firstAt = event.time;
    }
    if (ms > s.lastMs) {
      s.lastMs = ms;
      s.lastAt = event.time;
    }
    s.events++;
    if (startsOperation(event.type, data)) s.operations++;
    switch (decisionOf(event.type, data)) {
      case 'allow':
        s.allowed++;
        break;
      case 'deny':
        s.denied++;
        break;
      case 'review':
        s.reviewed++;
        break;
    }
    if (event.type === 'approval.changed' && data?.to === 'approved') s.approved++;
    s.masked += maskedOf(event.type, data);
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * One tally of several, taken in order over consecutive parts of the trail: the same as one
   * tally of all their events (the first principal and connection seen stay, times widen, counts
   * add up).
   */
  static merged(parts: SessionTally[]): SessionTally {
    if (parts.length === 1) return parts[0];
    const all = new SessionTally();
    for (const part of parts) {
      for (const d of part.sessions.values()) {
        const s = all.sessions.get(d.sessionId);
        if (!s) {
          all.sessions.set(d.sessionId, { ...d });
          continue;
        }
        if (s.subject === null && d.subject !== null) {
          s.issuer = d.issuer;
          s.subject = d.subject;
        }
        if (s.connection === null) s.connection = d.connection;
        if (d.firstMs < s.firstMs) {
          s.firstMs = d.firstMs;
          s.firstAt = d.firstAt;
        }
        if (d.lastMs > s.lastMs) {
          s.lastMs = d.lastMs;
          s.lastAt = d.lastAt;
        }
        s.events += d.events;
        s.operations += d.operations;
        s.allowed += d.allowed;
        s.denied += d.denied;
        s.reviewed += d.reviewed;
        s.approved += d.approved;
        s.masked += d.masked;
      }
    }
    return all;
  }

  /** In session id order: concurrent writers lock summary rows in the same order. */
  deltas(): SessionDelta[] {
    return [...this.sessions.values()].sort((a, b) =>
      a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0,
    );
  }
}

/**
 * One statement for a batch: new sessions are inserted, known ones have the batch added. The
 * first principal and connection seen stay; times widen; counts add up. The batch's deltas come
 * as one JSON array (one string to send, where fourteen array parameters built a string per value).
 */
export const UPSERT_SESSIONS_SQL = `
  INSERT INTO audit_session AS s (session_id, issuer, subject, connection, protocol, first_at, last_at,
                                  events, operations, allowed, denied, reviewed, approved, masked)
  SELECT "sessionId", issuer, subject, connection, protocol, "firstAt", "lastAt",
         events, operations, allowed, denied, reviewed, approved, masked
    FROM json_to_recordset($1::json) AS v("sessionId" uuid, issuer text, subject text, connection text, protocol text,
                                          "firstAt" timestamptz, "lastAt" timestamptz, events bigint, operations bigint,
                                          allowed bigint, denied bigint, reviewed bigint, approved bigint, masked bigint)
  ON CONFLICT (session_id) DO UPDATE SET
    issuer = CASE WHEN s.subject IS NULL THEN EXCLUDED.issuer ELSE s.issuer END,
    subject = coalesce(s.subject, EXCLUDED.subject),
    connection = coalesce(s.connection, EXCLUDED.connection),
    first_at = least(s.first_at, EXCLUDED.first_at),
    last_at = greatest(s.last_at, EXCLUDED.last_at),
    events = s.events + EXCLUDED.events,
    operations = s.operations + EXCLUDED.operations,
    allowed = s.allowed + EXCLUDED.allowed,
    denied = s.denied + EXCLUDED.denied,
    reviewed = s.reviewed + EXCLUDED.reviewed,
    approved = s.approved + EXCLUDED.approved,
    masked = s.masked + EXCLUDED.masked`;

/** The statement's one parameter: the deltas in session id order (rows are inserted, and locked, in it). */
export function upsertParams(deltas: SessionDelta[]): [string] {
  return [JSON.stringify(deltas)];
}
