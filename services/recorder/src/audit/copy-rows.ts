import { isUtf8 } from 'node:buffer';
import type { AuditEvent } from '@airlock/contracts';

/**
 * Rows for `COPY audit_event FROM STDIN` in PostgreSQL's text format: tab-separated columns, one
 * line per row, `\N` for NULL, and backslash, tab, newline and carriage return escaped in every
 * value. Writing the store with COPY costs PostgreSQL about half of what an INSERT that takes
 * the columns apart from JSON costs.
 */
export const COPY_COLUMNS = [
  'id',
  'type',
  'schema_version',
  'time',
  'session_id',
  'request_id',
  'actor_issuer',
  'actor_subject',
  'actor_groups',
  'connection',
  'protocol',
  'source',
  'event',
  'chain',
  'seq',
  'prev_hash',
  'hash',
  'kafka_offset',
] as const;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;

export function copyValue(value: string | null): string {
  if (value === null) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : value;
}

/** A PostgreSQL array literal of text elements, every element quoted. */
export function textArrayLiteral(items: readonly string[]): string {
  return `{${items.map((i) => `"${i.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** Bytes that COPY text can carry as they are: only `storedForm` makes them. */
export type VerbatimBytes = Buffer & { readonly verbatim: unique symbol };

/** A message as it arrived, in the one form kept until its row is written (see storedForm). */
export type StoredMessage = string | VerbatimBytes;

/**
 * The form a message is kept in until its row is written: its bytes as they arrived when COPY
 * text can carry them as they are (valid UTF-8 holding nothing COPY must escape: JSON text rarely
 * holds a backslash, never a raw tab or newline inside a string), else its text as decoded. Only
 * one of the two is kept: a window holds tens of thousands of messages while it waits.
 */
export function storedForm(bytes: Buffer, text: string): StoredMessage {
  return isUtf8(bytes) && !needsEscape(bytes) ? (bytes as VerbatimBytes) : text;
}

export interface ChainedRow {
  event: AuditEvent;
  /** The message as it arrived. */
  raw: StoredMessage;
  chain: number;
  seq: string;
  /** The previous link's hash and this one's, as 64 lowercase hex digits each. */
  prevHash: string;
  hash: string;
  offset: string;
}

/** One line of COPY text (with its newline). */
export function copyRow(r: ChainedRow): string {
  const e = r.event;
  return `${[
    e.id,
    copyValue(e.type),
    String(e.schemaVersion),
    copyValue(e.time),
    e.sessionId,
    e.requestId,
    copyValue(e.actor?.issuer ?? null),
    copyValue(e.actor?.subject ?? null),
    e.actor ? copyValue(textArrayLiteral(e.actor.groups)) : '\\N',
    copyValue(e.connection),
    copyValue(e.protocol),
    copyValue(e.source),
    copyValue(typeof r.raw === 'string' ? r.raw : r.raw.toString('utf8')),
    String(r.chain),
    r.seq,
    `\\\\x${r.prevHash}`,
    `\\\\x${r.hash}`,
    r.offset,
  ].join('\t')}\n`;
}

const BACKSLASH = 0x5c;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;

/** What a row's head may take at most, beyond the bytes of its event: every other column, escaped. */
function headBound(e: AuditEvent, rawBytes: number): number {
  let strings = e.type.length + e.time.length + e.protocol.length + e.source.length + (e.connection?.length ?? 0);
  if (e.actor) {
    strings += e.actor.issuer.length + e.actor.subject.length + 8;
    for (const g of e.actor.groups) strings += 3 * g.length + 3;
  }
  // UTF-8 takes at most 3 bytes a UTF-16 unit, and escaping doubles a byte at most.
  return 256 + 6 * strings + 2 * rawBytes;
}

/** What a row's tail (the chain, the sequence, both hashes, the offset and the newline) takes at most. */
const TAIL_BOUND = 256;

const EMPTY = Buffer.alloc(0);

/**
 * Bytes written straight into buffers of about `chunkSize`: no string per value, and no
 * conversion of a whole text at the end. What is written is never split across two buffers.
 */
abstract class ByteWriter {
  protected buf = EMPTY;
  protected at = 0;

  constructor(private readonly chunkSize: number) {}

  /** Called with what a buffer holds once the next one is taken. */
  protected abstract filled(written: Buffer): void;

  /** Makes room for `bytes` more in the current buffer, taking a new one if they do not fit. */
  protected room(bytes: number): void {
    if (this.buf.length - this.at >= bytes) return;
    if (this.at > 0) this.filled(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkSize, bytes));
    this.at = 0;
  }

  protected tab(): void {
    this.buf[this.at++] = TAB;
  }

  /** Text the contract holds to ASCII with nothing to escape (UUIDs, numbers). */
  protected ascii(s: string): void {
    const buf = this.buf;
    let at = this.at;
    // Short strings: a loop costs less than a call into the encoder.
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /** A COPY value: UTF-8, escaped; `\N` for null. */
  protected text(s: string | null): void {
    if (s === null) {
      this.ascii('\\N');
      return;
    }
    if (s.length <= 64) {
      const buf = this.buf;
      const start = this.at;
      let at = start;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80 || c === BACKSLASH || c === TAB || c === NEWLINE || c === RETURN) break;
        buf[at++] = c;
      }
      if (i === s.length) {
        this.at = at;
        return;
      }
    }
    this.at += this.buf.write(copyValue(s), this.at, 'utf8');
  }

  /** A bytea in hex form, its backslash escaped: `\\x` and the hash's hex digits. */
  protected hex(digits: string): void {
    this.buf[this.at++] = BACKSLASH;
    this.buf[this.at++] = BACKSLASH;
    this.buf[this.at++] = 0x78;
    this.ascii(digits);
  }
}

/**
 * Where a received event lies in its buffer (see EventWriter): from `at`, 32 bytes for the
 * previous link's hash and the event's canonical form, up to `canonicalEnd`; then the head of its
 * COPY row, up to `headEnd`.
 */
export interface WrittenEvent {
  readonly bytes: Buffer;
  readonly at: number;
  readonly canonicalEnd: number;
  readonly headEnd: number;
}

/**
 * Writes what the store needs of each event when it is received, so that a window waiting to be
 * stored holds bytes rather than the decoded event (a dozen objects the collector would copy
 * each time it runs): the input of its link, and the head of its COPY row (the first thirteen
 * columns, everything but the chain, the link and the offset, and the tab after them).
 */
export class EventWriter extends ByteWriter {
  private lastGroups: readonly string[] = [];
  private lastGroupsLiteral = '{}';
  /** Where the event written last lies (fields rather than an object: one per event would outlive it). */
  lastBytes = EMPTY;
  lastAt = 0;
  lastCanonicalEnd = 0;
  lastHeadEnd = 0;

  constructor(chunkSize = 256 * 1024) {
    super(chunkSize);
  }

  protected filled(): void {
    // Each event keeps its buffer (WrittenEvent.bytes).
  }

  /** Writes an event; the `last` fields then tell where it lies. */
  write(e: AuditEvent, raw: StoredMessage, canonical: string): void {
    this.room(32 + 3 * canonical.length + headBound(e, typeof raw === 'string' ? 3 * raw.length : raw.length));
    const at = this.at;
    this.at += 32;
    this.at += this.buf.write(canonical, this.at, 'utf8');
    const canonicalEnd = this.at;
    this.ascii(e.id);
    this.tab();
    this.text(e.type);
    this.tab();
    this.ascii(String(e.schemaVersion));
    this.tab();
    this.text(e.time);
    this.tab();
    this.ascii(e.sessionId);
    this.tab();
    this.ascii(e.requestId);
    this.tab();
    if (e.actor) {
      this.text(e.actor.issuer);
      this.tab();
      this.text(e.actor.subject);
      this.tab();
      this.text(this.groupsLiteral(e.actor.groups));
    } else {
      this.ascii('\\N\t\\N\t\\N');
    }
    this.tab();
    this.text(e.connection);
    this.tab();
    this.text(e.protocol);
    this.tab();
    this.text(e.source);
    this.tab();
    if (typeof raw === 'string') {
      this.text(raw);
    } else {
      this.at += raw.copy(this.buf, this.at);
    }
    this.tab();
    this.lastBytes = this.buf;
    this.lastAt = at;
    this.lastCanonicalEnd = canonicalEnd;
    this.lastHeadEnd = this.at;
  }

  /** The groups' array literal: the previous event's when the groups are the same (they mostly are). */
  private groupsLiteral(groups: readonly string[]): string {
    const last = this.lastGroups;
    let same = groups.length === last.length;
    for (let i = 0; same && i < groups.length; i++) same = groups[i] === last[i];
    if (!same) {
      this.lastGroups = groups;
      this.lastGroupsLiteral = textArrayLiteral(groups);
    }
    return this.lastGroupsLiteral;
  }
}

/**
 * COPY text (the same bytes as `copyRow` gives, one line per row), each row from the head written
 * when its event was received and the tail its link gives.
 */
export class CopyText extends ByteWriter {
  private readonly done: Buffer[] = [];

  constructor(chunkSize = 256 * 1024) {
    super(chunkSize);
  }

  protected filled(written: Buffer): void {
    this.done.push(written);
  }

  /** Adds one row: the event's head, then its chain, sequence number, link and offset. */
  row(e: WrittenEvent & { readonly offset: string }, chain: number, seq: string, prevHash: string, hash: string): void {
    const head = e.headEnd - e.canonicalEnd;
    this.room(head + TAIL_BOUND);
    this.at += e.bytes.copy(this.buf, this.at, e.canonicalEnd, e.headEnd);
    this.ascii(String(chain));
    this.tab();
    this.ascii(seq);
    this.tab();
    this.hex(prevHash);
    this.tab();
    this.hex(hash);
    this.tab();
    this.ascii(e.offset);
    this.buf[this.at++] = NEWLINE;
  }

  /** The text so far, in pieces (none empty). */
  chunks(): Buffer[] {
    if (this.at > 0) {
      this.done.push(this.buf.subarray(0, this.at));
      this.buf = EMPTY;
      this.at = 0;
    }
    return this.done;
  }
}

function needsEscape(bytes: Buffer): boolean {
  return (
    bytes.indexOf(BACKSLASH) !== -1 ||
    bytes.indexOf(NEWLINE) !== -1 ||
    bytes.indexOf(TAB) !== -1 ||
    bytes.indexOf(RETURN) !== -1
  );
}
