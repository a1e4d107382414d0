import { TextDecoder } from 'node:util';
import { PgProtocolError } from './errors';

// Not exported from the package: the shared reading and writing primitives of the codecs.

/** Type byte + int32 length. */
export const HEADER_BYTES = 5;

/**
 * What a client sends is decoded strictly: a lossy decode would let the proxy inspect SQL or a
 * role name that differs from the bytes it forwards to the server. `ignoreBOM` keeps a leading
 * U+FEFF in the text instead of silently dropping it, for the same reason.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type TextMode = 'strict' | 'lenient';

export function decodeText(bytes: Buffer, mode: TextMode, what: string): string {
  if (mode === 'lenient') return bytes.toString('utf8');
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new PgProtocolError(`${what}: invalid UTF-8`, '22021');
  }
}

/** Bounds-checked cursor over a message body; every overrun is a protocol error, never a RangeError. */
export class BodyReader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
    private readonly text: TextMode,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  fail(reason: string): never {
    throw new PgProtocolError(`${this.what}: ${reason}`);
  }

  private need(n: number): void {
    if (this.buf.length - this.pos < n) this.fail('message is truncated');
  }

  uint8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  /** Counts are unsigned on the wire: the server reads them as uint16 and accepts up to 65535 parameters. */
  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** OIDs are unsigned 32-bit. */
  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  rest(): Buffer {
    const v = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return v;
  }

  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) this.fail('string is missing its NUL terminator');
    const v = decodeText(this.buf.subarray(this.pos, end), this.text, this.what);
    this.pos = end + 1;
    return v;
  }

  /** An int16 count followed by that many int16 values. */
  int16List(): number[] {
    const n = this.uint16();
    this.need(n * 2);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.int16();
    return out;
  }

  end(): void {
    if (this.pos !== this.buf.length) this.fail('unexpected trailing bytes');
  }
}

export function assertNoNul(s: string, what: string): void {
  if (s.includes('\0')) throw new PgProtocolError(`${what} contains a NUL character`, '22021');
}

/** Accumulates one message and fills in its length when finished; `type` null is a start-up packet. */
export class MessageWriter {
  private buf: Buffer;
  private pos: number;

  constructor(
    private readonly type: number | null,
    sizeHint = 64,
  ) {
    this.pos = type === null ? 4 : HEADER_BYTES;
    this.buf = Buffer.allocUnsafe(this.pos + sizeHint);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  int8(v: number): this {
    this.reserve(1);
    this.pos = this.buf.writeUInt8(v, this.pos);
    return this;
  }

  int16(v: number): this {
    this.reserve(2);
    this.pos = this.buf.writeInt16BE(v, this.pos);
    return this;
  }

  uint16(v: number): this {
    this.reserve(2);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
    return this;
  }

  int32(v: number): this {
    this.reserve(4);
    this.pos = this.buf.writeInt32BE(v, this.pos);
    return this;
  }

  uint32(v: number): this {
    this.reserve(4);
    this.pos = this.buf.writeUInt32BE(v, this.pos);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  cstring(s: string, what: string): this {
    assertNoNul(s, what);
    const n = Buffer.byteLength(s, 'utf8');
    this.reserve(n + 1);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
    this.buf[this.pos++] = 0;
    return this;
  }

  finish(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    if (this.type === null) {
      out.writeInt32BE(this.pos, 0);
    } else {
      out[0] = this.type;
      out.writeInt32BE(this.pos - 1, 1);
    }
    return out;
  }
}

/** Frames any body under a type byte. */
export function encodeMessage(type: number, body: Buffer): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0xff) throw new RangeError(`message type ${type} is not a byte`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = type;
  out.writeInt32BE(body.length + 4, 1);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** A message with an empty body, built once; callers get their own copy so nobody can corrupt the shared one. */
export function emptyMessage(type: number): () => Buffer {
  const template = encodeMessage(type, Buffer.alloc(0));
  return () => Buffer.from(template);
}
