import { BodyReader, HEADER_BYTES } from './codec';
import { MessageTooLargeError, PgProtocolError } from './errors';

/** One typed message: `raw` is the whole message as received, `body` is `raw` without its 5-byte header. */
export interface Frame {
  type: number;
  body: Buffer;
  raw: Buffer;
}

export interface MessageReaderOptions {
  /** Largest accepted int32 length (which counts itself). Defaults to 1 GiB, the server's own limit. */
  maxLength?: number;
}

const DEFAULT_MAX_LENGTH = 1024 * 1024 * 1024;
const MIN_LENGTH = 4;

/**
 * Cuts a byte stream of typed messages (everything after start-up) into frames.
 *
 * Frames that lie inside one chunk are views of that chunk, and an incomplete message keeps
 * references to the chunks it came from: the caller must not reuse a chunk's memory afterwards.
 * Only a message that spans chunks is copied, once, when it is complete; the backlog is never
 * re-concatenated per chunk, and memory grows with the bytes actually received, not with the
 * length a peer announces.
 *
 * After a `PgProtocolError` the stream position is lost, so the reader refuses further input.
 */
export class MessageReader {
  private maxLength: number;
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Size, header included, of the message being assembled; 0 while its header is still incomplete. */
  private expected = 0;
  private broken = false;

  constructor(opts: MessageReaderOptions = {}) {
    this.maxLength = checkedMaxLength(opts.maxLength ?? DEFAULT_MAX_LENGTH);
  }

  /** The largest accepted int32 length from now on (e.g. a small one until authentication, then the session's). */
  get limit(): number {
    return this.maxLength;
  }

  set limit(maxLength: number) {
    this.maxLength = checkedMaxLength(maxLength);
  }

  /** Bytes held for a message that is not complete yet. */
  get pending(): number {
    return this.partBytes;
  }

  push(chunk: Buffer): Frame[] {
    if (this.broken) throw new PgProtocolError('message stream is unusable after a protocol error');
    const frames: Frame[] = [];
    if (chunk.length === 0) return frames;
    let off = 0;
    if (this.partBytes > 0) {
      off = this.continuePartial(chunk, frames);
      if (off < 0) return frames;
    }
    const end = chunk.length;
    while (end - off >= HEADER_BYTES) {
      const size = this.messageSize(chunk, off);
      if (end - off < size) {
        this.expected = size;
        break;
      }
      const raw = chunk.subarray(off, off + size);
      frames.push({ type: chunk[off], body: raw.subarray(HEADER_BYTES), raw });
      off += size;
    }
    if (off < end) {
      this.parts.push(chunk.subarray(off));
      this.partBytes = end - off;
    }
    return frames;
  }

  /** Feeds the held message; returns where the rest of `chunk` starts, or -1 when all of it was held. */
  private continuePartial(chunk: Buffer, frames: Frame[]): number {
    if (this.expected === 0) {
      const missingHeader = HEADER_BYTES - this.partBytes;
      if (chunk.length < missingHeader) return this.hold(chunk);
      const header = Buffer.concat([...this.parts, chunk.subarray(0, missingHeader)], HEADER_BYTES);
      this.expected = this.messageSize(header, 0);
    }
    const missing = this.expected - this.partBytes;
    if (chunk.length < missing) return this.hold(chunk);
    this.parts.push(chunk.subarray(0, missing));
    const raw = Buffer.concat(this.parts, this.expected);
    this.parts = [];
    this.partBytes = 0;
    this.expected = 0;
    frames.push({ type: raw[0], body: raw.subarray(HEADER_BYTES), raw });
    return missing;
  }

  private hold(chunk: Buffer): number {
    this.parts.push(chunk);
    this.partBytes += chunk.length;
    return -1;
  }

  private messageSize(buf: Buffer, off: number): number {
    const length = buf.readInt32BE(off + 1);
    if (length < MIN_LENGTH || length > this.maxLength) {
      this.broken = true;
      const type = buf[off];
      const message = `invalid length ${length} for message type 0x${type.toString(16).padStart(2, '0')}`;
      if (length > this.maxLength) throw new MessageTooLargeError(message, type, length, this.maxLength);
      throw new PgProtocolError(message);
    }
    return length + 1;
  }
}

function checkedMaxLength(maxLength: number): number {
  if (!Number.isInteger(maxLength) || maxLength < MIN_LENGTH || maxLength > 0x7fffffff) {
    throw new RangeError(`maxLength must be an integer between ${MIN_LENGTH} and 2^31-1, got ${maxLength}`);
  }
  return maxLength;
}

export type StartupPacket =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; processId: number; secretKey: Buffer }
  | { kind: 'startup'; major: number; minor: number; params: Record<string, string> };

export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;
export const PROTOCOL_3_0 = 3 << 16;

/** Protocol 3.0 keys are 4 bytes; 3.2 allows up to 256. */
export const MIN_SECRET_KEY_BYTES = 4;
export const MAX_SECRET_KEY_BYTES = 256;

const STARTUP_HEADER_BYTES = 8;

/**
 * Reads the first, untyped packet of a connection (or the one after an SSL/GSS refusal).
 * Returns null until `buf` holds the whole packet; `consumed` says how much of `buf` it used.
 */
export function readStartupPacket(buf: Buffer, maxLength = 10000): { packet: StartupPacket; consumed: number } | null {
  if (buf.length < 4) return null;
  const length = buf.readInt32BE(0);
  if (length < STARTUP_HEADER_BYTES || length > maxLength) {
    throw new PgProtocolError(`invalid start-up packet length ${length}`);
  }
  if (buf.length < length) return null;
  const code = buf.readUInt32BE(4);
  const body = buf.subarray(STARTUP_HEADER_BYTES, length);
  return { packet: startupPacket(code, body), consumed: length };
}

function startupPacket(code: number, body: Buffer): StartupPacket {
  switch (code) {
    case SSL_REQUEST_CODE:
    case GSSENC_REQUEST_CODE:
      if (body.length !== 0) throw new PgProtocolError('SSL/GSS encryption request must be 8 bytes long');
      return { kind: code === SSL_REQUEST_CODE ? 'ssl' : 'gssenc' };
    case CANCEL_REQUEST_CODE: {
      const keyBytes = body.length - 4;
      if (keyBytes < MIN_SECRET_KEY_BYTES || keyBytes > MAX_SECRET_KEY_BYTES) {
        throw new PgProtocolError('invalid cancel request length');
      }
      // Copied so that a key kept for comparison does not pin the whole receive buffer.
      return { kind: 'cancel', processId: body.readInt32BE(0), secretKey: Buffer.from(body.subarray(4)) };
    }
    default: {
      const major = code >>> 16;
      const minor = code & 0xffff;
      // Other major versions lay the packet out differently (2.0 uses fixed-width fields); like the
      // server, report the version before reading anything else, so the caller can refuse it with 0A000.
      const params = major === 3 ? startupParams(body) : (Object.create(null) as Record<string, string>);
      return { kind: 'startup', major, minor, params };
    }
  }
}

function startupParams(body: Buffer): Record<string, string> {
  // No prototype: a parameter named "__proto__" or "constructor" is just a key.
  const params = Object.create(null) as Record<string, string>;
  const r = new BodyReader(body, 'start-up packet', 'strict');
  for (;;) {
    if (r.remaining === 0) r.fail('missing final terminator');
    const name = r.cstring();
    if (name === '') break;
    const value = r.cstring();
    if (name in params) r.fail(`duplicate parameter "${name}"`);
    params[name] = value;
  }
  r.end();
  return params;
}
