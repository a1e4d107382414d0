import { isUtf8 } from 'node:buffer';
import type { AuditEvent } from '@airlock/contracts';
import { TimestampRefused, timestamptz } from './pg-timestamp';

/**
 * Rows for `COPY audit_event FROM STDIN (FORMAT binary)`: each row a count of its columns, then
 * each value as its length and PostgreSQL's binary form (length -1 for NULL). Nothing is escaped
 * and nothing is parsed from text on the server: PostgreSQL spends about a quarter less on a row
 * than in text form (bench/results/audit-cost-model.md), and the event's bytes go as they arrived.
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

/** What the data of one COPY starts with: the signature, no flags, no header extension. */
export const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** What it ends with: a row of -1 columns. */
export const COPY_TRAILER = Buffer.from([0xff, 0xff]);

/** The data of one COPY made of rows written by CopyRows (nothing when there are none). */
export function copyData(rows: Buffer[]): Buffer[] {
  return rows.length === 0 ? [] : [COPY_HEADER, ...rows, COPY_TRAILER];
}

/**
 * What a message's `event` column is written from: its bytes as they arrived when they are valid
 * UTF-8 (PostgreSQL takes them as they are), else its text as decoded.
 */
export function storedForm(bytes: Buffer, text: string): Buffer | string {
  return isUtf8(bytes) ? bytes : text;
}

/** Refused as PostgreSQL's uuid input refuses it, so the store's refusal path takes the event. */
export class UuidRefused extends Error {
  readonly code = '22P02';
  constructor(value: string) {
    super(`invalid input syntax for type uuid: "${value}"`);
    this.name = 'UuidRefused';
  }
}

/** A NUL in a text column: PostgreSQL's text COPY refuses its row before it reads any value. */
export class NulRefused extends Error {
  readonly code = '22021';
  constructor() {
    super('invalid byte sequence for encoding "UTF8": 0x00');
    this.name = 'NulRefused';
  }
}

/** Whether any text column of the event holds a NUL. */
function holdsNul(e: AuditEvent): boolean {
  const texts = [e.type, e.connection, e.protocol, e.source];
  if (e.actor) texts.push(e.actor.issuer, e.actor.subject, ...e.actor.groups);
  return texts.some((t) => typeof t === 'string' && t.includes('\0'));
}

/** PostgreSQL's oid of `text`, the element type of `actor_groups`. */
const TEXT_OID = 25;

/** What a row's head may take at most, beyond the bytes of its event: every other column. */
function headBound(e: AuditEvent, rawBytes: number): number {
  let strings = e.type.length + e.protocol.length + e.source.length + (e.connection?.length ?? 0);
  if (e.actor) {
    strings += e.actor.issuer.length + e.actor.subject.length;
    for (const g of e.actor.groups) strings += g.length + 2;
  }
  // UTF-8 takes at most 3 bytes a UTF-16 unit; the fixed columns and lengths take under 512.
  return 512 + 3 * strings + rawBytes;
}

/** What a row's tail takes: the chain (int), the sequence (bigint), both hashes (32 bytes each) and the offset (bigint). */
const TAIL_BYTES = 4 + 4 + (4 + 8) + 2 * (4 + 32) + (4 + 8);

const EMPTY: Buffer = Buffer.alloc(0);

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

  /** A 32-bit signed integer, big-endian: a value's length (-1 for NULL), or an integer column's value. */
  protected word(n: number): void {
    const buf = this.buf;
    const at = this.at;
    buf[at] = n >>> 24;
    buf[at + 1] = n >>> 16;
    buf[at + 2] = n >>> 8;
    buf[at + 3] = n;
    this.at = at + 4;
  }

  protected int32(n: number): void {
    this.word(4);
    this.word(n);
  }

  /** A bigint column from its decimal text (sequence numbers and offsets). */
  protected int64(decimal: string): void {
    // Up to 15 digits the number is exact as a double: no BigInt needed.
    this.int64Of(decimal.length <= 15 ? Number(decimal) : BigInt(decimal));
  }

  /** A 64-bit column (bigint, timestamptz) from its value: a number when it is an exact integer. */
  protected int64Of(value: number | bigint): void {
    this.word(8);
    if (typeof value === 'number') {
      const high = Math.floor(value / 0x1_0000_0000);
      this.word(high);
      this.word(value - high * 0x1_0000_0000);
    } else {
      this.buf.writeBigInt64BE(value, this.at);
      this.at += 8;
    }
  }

  /** A 32-byte bytea from its 64 hex digits. */
  protected hash(hex: string): void {
    this.word(32);
    this.at += this.buf.write(hex, this.at, 32, 'hex');
  }

  /** A uuid in its 16 bytes, from the contract's text form (hex digits in five dashed groups). */
  protected uuid(value: string): void {
    if (
      value.length !== 36 ||
      value.charCodeAt(8) !== DASH ||
      value.charCodeAt(13) !== DASH ||
      value.charCodeAt(18) !== DASH ||
      value.charCodeAt(23) !== DASH
    ) {
      throw new UuidRefused(value);
    }
    this.word(16);
    const buf = this.buf;
    const at = this.at;
    let bad = 0;
    for (let i = 0; i < 16; i++) {
      const p = UUID_DIGIT_AT[i];
      const c1 = value.charCodeAt(p);
      const c2 = value.charCodeAt(p + 1);
      const high = c1 < 0x80 ? HEX[c1] : 0x100;
      const low = c2 < 0x80 ? HEX[c2] : 0x100;
      bad |= high | low;
      buf[at + i] = (high << 4) | low;
    }
    // A character that is not a hex digit maps to 0x100 or above.
    if (bad > 0x0f) throw new UuidRefused(value);
    this.at = at + 16;
  }

  /** A text column (NULL for null), as UTF-8. */
  protected text(s: string | null): void {
    if (s === null) {
      this.word(-1);
      return;
    }
    const lengthAt = this.at;
    const start = lengthAt + 4;
    const buf = this.buf;
    let at = start;
    // Short ASCII strings: a loop costs less than a call into the encoder.
    if (s.length <= 64) {
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at++] = c;
      }
      if (i < s.length) at = start + buf.write(s, start, 'utf8');
    } else {
      at += buf.write(s, at, 'utf8');
    }
    this.at = lengthAt;
    this.word(at - start);
    this.at = at;
  }

  /** A value's bytes as they are, with their length. */
  protected bytes(b: Buffer): void {
    this.word(b.length);
    this.at += b.copy(this.buf, this.at);
  }
}

/**
 * Where a received event lies (see EventWriter): the input of its link in `linkBytes`, from
 * `linkAt` to `linkEnd` (32 bytes for the previous link's hash, then its canonical form); its
 * binary COPY row in `rowBytes`, from `rowAt` to `rowEnd`, of which the last TAIL_BYTES are
 * written when it is linked.
 */
export interface WrittenEvent {
  readonly linkBytes: Buffer;
  readonly linkAt: number;
  readonly linkEnd: number;
  readonly rowBytes: Buffer;
  readonly rowAt: number;
  readonly rowEnd: number;
}

/** The inputs of links, one after another: 32 bytes for the previous hash, then the canonical form. */
class LinkWriter extends ByteWriter {
  lastBytes = EMPTY;
  lastAt = 0;

  protected filled(): void {
    // Each event keeps its buffer (WrittenEvent.linkBytes).
  }

  write(canonical: string): void {
    this.room(32 + 3 * canonical.length);
    this.lastBytes = this.buf;
    this.lastAt = this.at;
    this.at += 32;
    this.at += this.buf.write(canonical, this.at, 'utf8');
  }

  get lastEnd(): number {
    return this.at;
  }
}

/**
 * Writes what the store needs of each event when it is received, so that a window waiting to be
 * stored holds bytes rather than the decoded event (a dozen objects the collector would copy
 * each time it runs): the input of its link, and its binary COPY row, all but the tail (the
 * chain, the link and the offset) that its link fills in where it lies. The rows of events
 * received one after another lie one after another, so a window's COPY sends them as they are.
 */
export class EventWriter extends ByteWriter {
  private readonly links: LinkWriter;
  private lastGroups: readonly string[] = [];
  private lastGroupsValue = EMPTY;
  /** Where the event written last lies (fields rather than an object: one per event would outlive it). */
  lastRowBytes = EMPTY;
  lastRowAt = 0;
  lastRowEnd = 0;

  constructor(chunkSize = 256 * 1024) {
    super(chunkSize);
    this.links = new LinkWriter(chunkSize);
  }

  get lastLinkBytes(): Buffer {
    return this.links.lastBytes;
  }

  get lastLinkAt(): number {
    return this.links.lastAt;
  }

  get lastLinkEnd(): number {
    return this.links.lastEnd;
  }

  /** Where the event written last lies, as an object of its own. */
  lastWritten(): WrittenEvent {
    return {
      linkBytes: this.lastLinkBytes,
      linkAt: this.lastLinkAt,
      linkEnd: this.lastLinkEnd,
      rowBytes: this.lastRowBytes,
      rowAt: this.lastRowAt,
      rowEnd: this.lastRowEnd,
    };
  }

  protected filled(): void {
    // Each event keeps its buffer (WrittenEvent.rowBytes).
  }

  /**
   * Writes an event; the `last` fields then tell where it lies. Throws (TimestampRefused,
   * UuidRefused, NulRefused: SQLSTATEs of class 22) for a value PostgreSQL would refuse, and keeps nothing of it.
   */
  write(e: AuditEvent, raw: Buffer | string, canonical: string): void {
    this.room(headBound(e, typeof raw === 'string' ? 3 * raw.length : raw.length) + TAIL_BYTES);
    const at = this.at;
    try {
      this.buf.writeInt16BE(COPY_COLUMNS.length, this.at);
      this.at += 2;
      this.uuid(e.id);
      this.text(e.type);
      this.int32(e.schemaVersion);
      this.int64Of(timestamptz(e.time));
      this.uuid(e.sessionId);
      this.uuid(e.requestId);
      if (e.actor) {
        this.text(e.actor.issuer);
        this.text(e.actor.subject);
        this.groups(e.actor.groups);
      } else {
        for (let i = 0; i < 3; i++) this.word(-1);
      }
      this.text(e.connection);
      this.text(e.protocol);
      this.text(e.source);
      if (typeof raw === 'string') this.text(raw);
      else this.bytes(raw);
    } catch (err) {
      this.at = at;
      // The text form's order: a NUL anywhere in the row before any value's own refusal.
      throw (err instanceof TimestampRefused || err instanceof UuidRefused) && holdsNul(e) ? new NulRefused() : err;
    }
    this.at += TAIL_BYTES;
    this.links.write(canonical);
    this.lastRowBytes = this.buf;
    this.lastRowAt = at;
    this.lastRowEnd = this.at;
  }

  /** `actor_groups`, a one-dimensional text[] (no dimension when empty); the previous event's bytes when the groups are the same. */
  private groups(groups: readonly string[]): void {
    const last = this.lastGroups;
    let same = groups.length === last.length && this.lastGroupsValue.length > 0;
    for (let i = 0; same && i < groups.length; i++) same = groups[i] === last[i];
    if (!same) {
      this.lastGroups = groups;
      this.lastGroupsValue = arrayValue(groups);
    }
    this.at += this.lastGroupsValue.copy(this.buf, this.at);
  }
}

/** Writes a row's tail where it lies. */
class TailWriter extends ByteWriter {
  constructor() {
    super(0);
  }

  protected filled(): void {
    throw new Error('a tail is written in the room its row kept for it');
  }

  fill(
    e: WrittenEvent & { readonly offset: string },
    chain: number,
    seq: string,
    prevHash: string,
    hash: string,
  ): void {
    this.buf = e.rowBytes;
    this.at = e.rowEnd - TAIL_BYTES;
    this.int32(chain);
    this.int64(seq);
    this.hash(prevHash);
    this.hash(hash);
    this.int64(e.offset);
    this.buf = EMPTY;
  }
}

/**
 * The binary COPY rows of a window (see copyData for what goes around them): each row's tail is
 * written where the row lies, and rows that lie one after another go as one piece.
 */
export class CopyRows {
  private readonly tail = new TailWriter();
  private readonly done: Buffer[] = [];
  private bytes = EMPTY;
  private from = 0;
  private to = 0;

  /** Adds one row, with its chain, sequence number, link (hashes in hex) and offset. */
  row(e: WrittenEvent & { readonly offset: string }, chain: number, seq: string, prevHash: string, hash: string): void {
    this.tail.fill(e, chain, seq, prevHash, hash);
    if (e.rowBytes === this.bytes && e.rowAt === this.to) {
      this.to = e.rowEnd;
      return;
    }
    this.end();
    this.bytes = e.rowBytes;
    this.from = e.rowAt;
    this.to = e.rowEnd;
  }

  /** The rows so far, in pieces (none empty), each ending at the end of a row. */
  chunks(): Buffer[] {
    this.end();
    this.bytes = EMPTY;
    return this.done;
  }

  private end(): void {
    if (this.to > this.from) this.done.push(this.bytes.subarray(this.from, this.to));
    this.from = this.to = 0;
  }
}

/** A text[] column's length and binary form: dimensions, no NULLs, element type, each element's length and bytes. */
function arrayValue(items: readonly string[]): Buffer {
  const elements = items.map((item) => Buffer.from(item, 'utf8'));
  const header = items.length === 0 ? 12 : 20;
  const size = header + elements.reduce((n, b) => n + 4 + b.length, 0);
  const out = Buffer.alloc(4 + size);
  let at = out.writeInt32BE(size, 0);
  at = out.writeInt32BE(items.length === 0 ? 0 : 1, at);
  at = out.writeInt32BE(0, at);
  at = out.writeInt32BE(TEXT_OID, at);
  if (items.length > 0) {
    at = out.writeInt32BE(items.length, at);
    at = out.writeInt32BE(1, at);
  }
  for (const b of elements) {
    at = out.writeInt32BE(b.length, at);
    at += b.copy(out, at);
  }
  return out;
}

const DASH = 0x2d;
/** Where each byte's two hex digits start in a dashed uuid. */
const UUID_DIGIT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** Each ASCII code's hex value, 0x100 for those that are not hex digits. */
const HEX = Uint16Array.from({ length: 128 }, (_, c) => {
  const digit = '0123456789abcdef'.indexOf(String.fromCharCode(c).toLowerCase());
  return digit < 0 ? 0x100 : digit;
});
