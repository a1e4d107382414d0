import { isUtf8 } from 'node:buffer';
import type { AuditEvent } from '@airlock/contracts';
import { writeTimestamptz } from './pg-timestamp';

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

export interface ChainedRow {
  event: AuditEvent;
  /** The message text as it arrived. */
  raw: string;
  chain: number;
  seq: string;
  prevHash: Buffer;
  hash: Buffer;
  offset: string;
}

/** What the data of one COPY starts with: the signature, no flags, no header extension. */
export const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** What it ends with: a row of -1 columns. */
export const COPY_TRAILER = Buffer.from([0xff, 0xff]);

/** The data of one COPY made of rows written by CopyRows (nothing when there are none). */
export function copyData(rows: Buffer[]): Buffer[] {
  return rows.length === 0 ? [] : [COPY_HEADER, ...rows, COPY_TRAILER];
}

/** PostgreSQL's oid of `text`, the element type of `actor_groups`. */
const TEXT_OID = 25;
const EMPTY = Buffer.alloc(0);

/** Refused as uuid_in refuses it, so the store's refusal path takes the row. */
class UuidRefused extends Error {
  readonly code = '22P02';
  constructor(value: string) {
    super(`invalid input syntax for type uuid: "${value}"`);
    this.name = 'UuidRefused';
  }
}

/** What one row may take at most, beyond the bytes of its event: every other column. */
function rowBound(r: ChainedRow, rawBytes: number): number {
  const e = r.event;
  let strings = e.type.length + e.protocol.length + e.source.length + (e.connection?.length ?? 0);
  if (e.actor) {
    strings += e.actor.issuer.length + e.actor.subject.length;
    for (const g of e.actor.groups) strings += g.length + 2;
  }
  // UTF-8 takes at most 3 bytes a UTF-16 unit; the fixed columns and lengths take under 512.
  return 512 + 3 * strings + rawBytes;
}

/**
 * Binary COPY rows written straight into buffers of about `chunkSize` bytes, each piece ending at
 * the end of a row; the event's bytes are copied as they arrived from Kafka when they are valid
 * UTF-8, else its text is written as decoded.
 */
export class CopyRows {
  private readonly done: Buffer[] = [];
  /** Allocated when the first row comes, and again once full. */
  private buf: Buffer = EMPTY;
  private at = 0;
  private lastGroups: readonly string[] = [];
  private lastGroupsValue: Buffer = EMPTY;

  constructor(private readonly chunkSize = 256 * 1024) {}

  /** Adds one row; `bytes` are the message as it arrived, if they are at hand. */
  row(r: ChainedRow, bytes?: Buffer | null): void {
    const e = r.event;
    const verbatim = bytes && isUtf8(bytes) ? bytes : undefined;
    this.room(rowBound(r, verbatim ? verbatim.length : 3 * r.raw.length));
    const start = this.at;
    try {
      this.buf.writeInt16BE(COPY_COLUMNS.length, this.at);
      this.at += 2;
      this.uuid(e.id);
      this.text(e.type);
      this.int32(e.schemaVersion);
      this.length(8);
      writeTimestamptz(e.time, this.buf, this.at);
      this.at += 8;
      this.uuid(e.sessionId);
      this.uuid(e.requestId);
      if (e.actor) {
        this.text(e.actor.issuer);
        this.text(e.actor.subject);
        this.groups(e.actor.groups);
      } else {
        for (let i = 0; i < 3; i++) this.length(-1);
      }
      this.text(e.connection);
      this.text(e.protocol);
      this.text(e.source);
      if (verbatim) {
        this.length(verbatim.length);
        this.at += verbatim.copy(this.buf, this.at);
      } else {
        this.text(r.raw);
      }
      this.int32(r.chain);
      this.int64(r.seq);
      this.bytes(r.prevHash);
      this.bytes(r.hash);
      this.int64(r.offset);
    } catch (err) {
      // Nothing of a refused row stays behind.
      this.at = start;
      throw err;
    }
  }

  /** The rows so far, in pieces (none empty). */
  chunks(): Buffer[] {
    if (this.at > 0) {
      this.done.push(this.buf.subarray(0, this.at));
      this.buf = EMPTY;
      this.at = 0;
    }
    return this.done;
  }

  private room(bytes: number): void {
    if (this.buf.length - this.at >= bytes) return;
    if (this.at > 0) this.done.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkSize, bytes));
    this.at = 0;
  }

  /** A 32-bit signed integer, big-endian: a value's length (-1 for NULL), or an integer column's value. */
  private word(n: number): void {
    const buf = this.buf;
    const at = this.at;
    buf[at] = n >>> 24;
    buf[at + 1] = n >>> 16;
    buf[at + 2] = n >>> 8;
    buf[at + 3] = n;
    this.at = at + 4;
  }

  private length(n: number): void {
    this.word(n);
  }

  private int32(n: number): void {
    this.word(4);
    this.word(n);
  }

  /** A bigint column from its decimal text (sequence numbers and offsets). */
  private int64(decimal: string): void {
    this.length(8);
    // Up to 15 digits the number is exact as a double: no BigInt needed.
    if (decimal.length <= 15) {
      const n = Number(decimal);
      const high = Math.floor(n / 0x1_0000_0000);
      this.buf.writeInt32BE(high, this.at);
      this.buf.writeUInt32BE(n - high * 0x1_0000_0000, this.at + 4);
    } else {
      this.buf.writeBigInt64BE(BigInt(decimal), this.at);
    }
    this.at += 8;
  }

  private bytes(b: Buffer): void {
    this.length(b.length);
    this.at += b.copy(this.buf, this.at);
  }

  /** A uuid in its 16 bytes, from the contract's text form (hex digits in five dashed groups). */
  private uuid(value: string): void {
    if (
      value.length !== 36 ||
      value.charCodeAt(8) !== DASH ||
      value.charCodeAt(13) !== DASH ||
      value.charCodeAt(18) !== DASH ||
      value.charCodeAt(23) !== DASH
    ) {
      throw new UuidRefused(value);
    }
    this.length(16);
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
  private text(s: string | null): void {
    if (s === null) {
      this.length(-1);
      return;
    }
    const lengthAt = this.at;
    this.at += 4;
    const buf = this.buf;
    let at = this.at;
    // Short ASCII strings: a loop costs less than a call into the encoder.
    if (s.length <= 64) {
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at++] = c;
      }
      if (i < s.length) at = this.at + buf.write(s, this.at, 'utf8');
    } else {
      at += buf.write(s, at, 'utf8');
    }
    buf.writeInt32BE(at - this.at, lengthAt);
    this.at = at;
  }

  /** `actor_groups`, a one-dimensional text[] (no dimension when empty); the previous row's bytes when the groups are the same. */
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
