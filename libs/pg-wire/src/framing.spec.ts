import {
  MessageReader,
  MessageTooLargeError,
  PgProtocolError,
  encodeCancelRequest,
  encodeCommandComplete,
  encodeDataRow,
  encodeReadyForQuery,
  encodeSSLRequest,
  encodeStartupMessage,
  readStartupPacket,
  type Frame,
} from './index';

/** Plain copies, so frames from different chunkings compare by content only. */
function plain(frames: Frame[]): Array<{ type: number; body: Buffer; raw: Buffer }> {
  return frames.map((f) => ({ type: f.type, body: Buffer.from(f.body), raw: Buffer.from(f.raw) }));
}

function pushAll(chunks: Buffer[], reader = new MessageReader()): Frame[] {
  return chunks.flatMap((c) => reader.push(c));
}

function startupPacket(code: number, body: Buffer): Buffer {
  const out = Buffer.alloc(8 + body.length);
  out.writeInt32BE(out.length, 0);
  out.writeUInt32BE(code, 4);
  body.copy(out, 8);
  return out;
}

function header(type: number, length: number): Buffer {
  const out = Buffer.alloc(5);
  out[0] = type;
  out.writeInt32BE(length, 1);
  return out;
}

const stream = Buffer.concat([
  encodeDataRow(['1', null, Buffer.from([0, 1, 2])]),
  encodeDataRow([]),
  encodeCommandComplete('SELECT 2'),
  encodeReadyForQuery('I'),
]);

describe('MessageReader', () => {
  it('cuts one chunk into frames that are views of it', () => {
    const frames = new MessageReader().push(stream);
    expect(frames.map((f) => String.fromCharCode(f.type))).toEqual(['D', 'D', 'C', 'Z']);
    expect(Buffer.concat(frames.map((f) => f.raw))).toEqual(stream);
    for (const f of frames) {
      expect(f.raw.buffer).toBe(stream.buffer);
      expect(f.body).toEqual(f.raw.subarray(5));
      expect(f.body.buffer).toBe(stream.buffer);
    }
    expect(frames[3].body).toEqual(Buffer.from('I'));
  });

  it('gives the same frames whichever byte boundary the stream is cut at', () => {
    const whole = plain(new MessageReader().push(stream));
    for (let i = 0; i <= stream.length; i++) {
      const reader = new MessageReader();
      expect(plain(pushAll([stream.subarray(0, i), stream.subarray(i)], reader))).toEqual(whole);
      expect(reader.pending).toBe(0);
    }
    for (let i = 1; i < stream.length; i++) {
      for (let j = i; j < stream.length; j++) {
        const chunks = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
        expect(plain(pushAll(chunks))).toEqual(whole);
      }
    }
  });

  it('assembles a stream fed one byte at a time', () => {
    const reader = new MessageReader();
    const frames: Frame[] = [];
    for (let i = 0; i < stream.length; i++) frames.push(...reader.push(stream.subarray(i, i + 1)));
    expect(plain(frames)).toEqual(plain(new MessageReader().push(stream)));
  });

  it('holds an incomplete message and reports its size as pending', () => {
    const reader = new MessageReader();
    expect(reader.push(stream.subarray(0, 3))).toEqual([]);
    expect(reader.pending).toBe(3);
    const first = encodeDataRow(['1', null, Buffer.from([0, 1, 2])]).length;
    expect(reader.push(stream.subarray(3, first + 2))).toHaveLength(1);
    expect(reader.pending).toBe(2);
    expect(reader.push(Buffer.alloc(0))).toEqual([]);
    expect(reader.pending).toBe(2);
  });

  it('copies a message that spans chunks, so it does not alias either chunk', () => {
    const a = Buffer.from(stream.subarray(0, 7));
    const b = Buffer.from(stream.subarray(7));
    const reader = new MessageReader();
    expect(reader.push(a)).toEqual([]);
    const [first] = reader.push(b);
    a.fill(0xee);
    b.fill(0xee);
    expect(first.raw).toEqual(stream.subarray(0, first.raw.length));
  });

  it('accepts the smallest message, a bare header', () => {
    expect(plain(new MessageReader().push(header(0x53, 4)))).toEqual([
      { type: 0x53, body: Buffer.alloc(0), raw: header(0x53, 4) },
    ]);
  });

  it.each([
    ['shorter than itself', 3],
    ['zero', 0],
    ['negative', -1],
    ['the most negative int32', -0x80000000],
    ['above 1 GiB', 1024 * 1024 * 1024 + 1],
  ])('refuses a length that is %s', (_what, length) => {
    expect(() => new MessageReader().push(header(0x44, length))).toThrow(PgProtocolError);
  });

  it('refuses a length above maxLength as soon as the header is in, before the body arrives', () => {
    const reader = new MessageReader({ maxLength: 100 });
    expect(reader.push(header(0x44, 100))).toEqual([]);
    const other = new MessageReader({ maxLength: 100 });
    expect(other.push(Buffer.from([0x44, 0, 0]))).toEqual([]);
    expect(() => other.push(Buffer.from([0, 101]))).toThrow(/invalid length 101/);
  });

  it('says what was too large and what the limit was, and takes a new limit for what follows', () => {
    const reader = new MessageReader({ maxLength: 100 });
    expect(reader.push(header(0x70, 100))).toEqual([]);
    reader.limit = 1000;
    expect(reader.limit).toBe(1000);
    expect(reader.push(Buffer.concat([Buffer.alloc(96), header(0x51, 1000)]))).toHaveLength(1);
    const small = new MessageReader({ maxLength: 100 });
    expect(() => small.push(header(0x70, 5000))).toThrow(
      expect.objectContaining({ constructor: MessageTooLargeError, type: 0x70, length: 5000, limit: 100 }),
    );
    expect(() => {
      reader.limit = 2;
    }).toThrow(RangeError);
  });

  it('is unusable after a protocol error, with a protocol-violation SQLSTATE', () => {
    const reader = new MessageReader();
    let caught: unknown;
    try {
      reader.push(Buffer.concat([encodeReadyForQuery('I'), header(0x44, 2)]));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PgProtocolError);
    expect((caught as PgProtocolError).sqlstate).toBe('08P01');
    expect(() => reader.push(encodeReadyForQuery('I'))).toThrow(PgProtocolError);
  });

  it('keeps a truncated message pending instead of yielding it', () => {
    const reader = new MessageReader();
    expect(reader.push(stream.subarray(0, stream.length - 1)).length).toBe(3);
    expect(reader.pending).toBe(encodeReadyForQuery('I').length - 1);
  });

  it('refuses a nonsensical maxLength', () => {
    expect(() => new MessageReader({ maxLength: 3 })).toThrow(RangeError);
    expect(() => new MessageReader({ maxLength: 2 ** 31 })).toThrow(RangeError);
  });
});

describe('readStartupPacket', () => {
  it('reads an SSLRequest and leaves what follows it', () => {
    const hello = Buffer.from([0x16, 0x03, 0x01]);
    expect(readStartupPacket(Buffer.concat([encodeSSLRequest(), hello]))).toEqual({
      packet: { kind: 'ssl' },
      consumed: 8,
    });
  });

  it('reads a GSSENCRequest', () => {
    expect(readStartupPacket(startupPacket(80877104, Buffer.alloc(0)))).toEqual({
      packet: { kind: 'gssenc' },
      consumed: 8,
    });
  });

  it('reads a protocol 3.0 CancelRequest', () => {
    const key = Buffer.from([1, 2, 3, 4]);
    const raw = encodeCancelRequest(4242, key);
    expect(raw).toHaveLength(16);
    expect(readStartupPacket(raw)).toEqual({
      packet: { kind: 'cancel', processId: 4242, secretKey: key },
      consumed: 16,
    });
  });

  it('reads a CancelRequest with a longer (protocol 3.2) key, up to 256 bytes', () => {
    const key = Buffer.alloc(256, 7);
    const result = readStartupPacket(encodeCancelRequest(1, key));
    expect(result).toEqual({ packet: { kind: 'cancel', processId: 1, secretKey: key }, consumed: 268 });
  });

  it.each([
    ['too short', 3],
    ['too long', 257],
  ])('refuses a CancelRequest whose key is %s', (_what, keyBytes) => {
    const body = Buffer.alloc(4 + keyBytes);
    expect(() => readStartupPacket(startupPacket(80877102, body))).toThrow(PgProtocolError);
  });

  it('refuses an SSLRequest or GSSENCRequest that is not 8 bytes', () => {
    expect(() => readStartupPacket(startupPacket(80877103, Buffer.alloc(4)))).toThrow(PgProtocolError);
    expect(() => readStartupPacket(startupPacket(80877104, Buffer.alloc(1)))).toThrow(PgProtocolError);
  });

  it('reads a StartupMessage with its parameters', () => {
    const raw = encodeStartupMessage({ user: 'alice', database: 'billing', options: '', application_name: 'psql' });
    const result = readStartupPacket(raw);
    expect(result?.consumed).toBe(raw.length);
    expect(result?.packet).toEqual({
      kind: 'startup',
      major: 3,
      minor: 0,
      params: { user: 'alice', database: 'billing', options: '', application_name: 'psql' },
    });
  });

  it('needs more bytes for every prefix of a packet', () => {
    const raw = encodeStartupMessage({ user: 'alice' });
    for (let i = 0; i < raw.length; i++) expect(readStartupPacket(raw.subarray(0, i))).toBeNull();
    expect(readStartupPacket(raw)).not.toBeNull();
  });

  it('returns a packet with another protocol version, for the caller to refuse', () => {
    // Protocol 2.0 packs fixed-width fields that are not name/value pairs.
    const v2 = startupPacket(2 << 16, Buffer.alloc(288, 0x41));
    const result = readStartupPacket(v2);
    expect(result?.packet).toEqual({ kind: 'startup', major: 2, minor: 0, params: {} });
    const v32 = startupPacket((3 << 16) | 2, Buffer.from('user\0bob\0\0'));
    expect(readStartupPacket(v32)?.packet).toEqual({ kind: 'startup', major: 3, minor: 2, params: { user: 'bob' } });
  });

  it('keeps "__proto__" as a plain parameter', () => {
    const raw = startupPacket(3 << 16, Buffer.from('__proto__\0x\0constructor\0y\0\0'));
    const result = readStartupPacket(raw);
    const params = result?.packet.kind === 'startup' ? result.packet.params : undefined;
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(Object.keys(params ?? {})).toEqual(['__proto__', 'constructor']);
    expect(params?.['__proto__']).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it.each([
    ['no final terminator', 'user\0bob\0'],
    ['a name without a value', 'user\0bob\0database\0\0'],
    ['a value without its NUL', 'user\0bob'],
    ['bytes after the final terminator', 'user\0bob\0\0x'],
    ['a duplicate name', 'user\0bob\0user\0eve\0\0'],
    ['no parameters and no terminator', ''],
  ])('refuses parameters with %s', (_what, params) => {
    expect(() => readStartupPacket(startupPacket(3 << 16, Buffer.from(params, 'latin1')))).toThrow(PgProtocolError);
  });

  it('refuses parameters that are not UTF-8', () => {
    const raw = startupPacket(3 << 16, Buffer.from([...Buffer.from('user\0'), 0xff, 0, 0]));
    expect(() => readStartupPacket(raw)).toThrow(expect.objectContaining({ sqlstate: '22021' }));
  });

  it('refuses a length below 8 or above maxLength, without waiting for the rest', () => {
    for (const length of [0, 4, 7, -1]) {
      const raw = Buffer.alloc(4);
      raw.writeInt32BE(length);
      expect(() => readStartupPacket(raw)).toThrow(PgProtocolError);
    }
    const big = Buffer.alloc(4);
    big.writeInt32BE(10001);
    expect(() => readStartupPacket(big)).toThrow(PgProtocolError);
    expect(readStartupPacket(big, 20000)).toBeNull();
  });
});
