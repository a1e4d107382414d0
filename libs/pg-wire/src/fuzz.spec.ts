import fc from 'fast-check';
import {
  MessageReader,
  PgProtocolError,
  decodeAuthentication,
  decodeBackendKeyData,
  decodeCommandComplete,
  decodeCopyResponse,
  decodeDataRow,
  decodeErrorFields,
  decodeFrontend,
  decodeParameterDescription,
  decodeParameterStatus,
  decodeReadyForQuery,
  decodeRowDescription,
  decodeSASLInitialResponse,
  encodeBind,
  encodeClose,
  encodeDataRow,
  encodeDescribe,
  encodeErrorFields,
  encodeErrorResponse,
  encodeExecute,
  encodeMessage,
  encodeParse,
  encodeQuery,
  encodeRowDescription,
  passwordFromMessage,
  readStartupPacket,
  type FieldDescription,
  type Frame,
  type FrontendMessage,
} from './index';

const RUNS = { numRuns: 500 };

/** Runs `fn`; a PgProtocolError is an accepted outcome, any other error fails the property. */
function protocolErrorOr<T>(fn: () => T): T | PgProtocolError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PgProtocolError) return err;
    throw err;
  }
}

const bytes = (maxLength = 64) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

/** Strings as the protocol can carry them: any code point but NUL. */
const text = fc.string({ unit: 'binary', maxLength: 24 }).map((s) => s.replace(/\0/g, ''));

function int16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

/**
 * Bodies made of the pieces real messages are made of, so that decoders get past their first
 * check far more often than with uniformly random bytes.
 */
const tokenBody = fc
  .array(
    fc.oneof(
      bytes(8),
      text.map((s) => Buffer.from(`${s}\0`)),
      fc.integer({ min: -2, max: 4 }).map(int16),
      fc.integer({ min: -2, max: 6 }).map(int32),
      fc.constantFrom(Buffer.from([0]), Buffer.from('S'), Buffer.from('P'), Buffer.from([0xff, 0xfe])),
    ),
    { maxLength: 10 },
  )
  .map((parts) => Buffer.concat(parts));

const body = fc.oneof(bytes(), tokenBody);

const anyType = fc.oneof(
  fc.constantFrom(...'QPBDECSHXdcfpFZ1'.split('').map((c) => c.charCodeAt(0))),
  fc.integer({ min: 0, max: 255 }),
);

/** A stream of mostly well-formed messages, sometimes damaged. */
const stream = fc.oneof(
  bytes(200),
  fc
    .tuple(
      fc.array(fc.tuple(anyType, body), { maxLength: 6 }),
      fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { freq: 3 }),
    )
    .map(([messages, damage]) => {
      const out = Buffer.concat(messages.map(([type, b]) => encodeMessage(type, b)));
      if (damage && out.length > 0) out[damage[0] % out.length] = damage[1];
      return out;
    }),
);

/** Sorted cut offsets, turned into chunks. */
function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const o of offsets) {
    chunks.push(buf.subarray(prev, o));
    prev = o;
  }
  chunks.push(buf.subarray(prev));
  return chunks;
}

interface Outcome {
  frames: Array<{ type: number; body: Buffer; raw: Buffer }>;
  failed: boolean;
  pending: number;
}

function run(chunks: Buffer[], maxLength: number): Outcome {
  const reader = new MessageReader({ maxLength });
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    const got = protocolErrorOr(() => reader.push(chunk));
    if (got instanceof PgProtocolError) return { frames: copies(frames), failed: true, pending: -1 };
    frames.push(...got);
  }
  return { frames: copies(frames), failed: false, pending: reader.pending };
}

function copies(frames: Frame[]): Outcome['frames'] {
  return frames.map((f) => ({ type: f.type, body: Buffer.from(f.body), raw: Buffer.from(f.raw) }));
}

describe('fuzzing', () => {
  it('MessageReader yields the same frames for every chunking, or only a PgProtocolError', () => {
    fc.assert(
      fc.property(
        stream,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom(4, 16, 64, 1 << 30),
        (buf, cuts, maxLength) => {
          const byteByByte = run(
            Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1)),
            maxLength,
          );
          const cut = run(chunked(buf, cuts), maxLength);
          expect(cut.failed).toBe(byteByByte.failed);
          if (byteByByte.failed) {
            // Frames of the chunk that held the bad header are lost with the throw.
            expect(cut.frames).toEqual(byteByByte.frames.slice(0, cut.frames.length));
          } else {
            expect(cut).toEqual(byteByByte);
            expect(Buffer.concat([...cut.frames.map((f) => f.raw), buf.subarray(buf.length - cut.pending)])).toEqual(
              buf,
            );
          }
        },
      ),
      RUNS,
    );
  });

  it('decodeFrontend returns a message or throws a PgProtocolError', () => {
    fc.assert(
      fc.property(anyType, body, (type, b) => {
        const raw = encodeMessage(type, b);
        protocolErrorOr(() => decodeFrontend({ type, body: raw.subarray(5), raw }));
      }),
      RUNS,
    );
  });

  it('readStartupPacket returns null, a packet, or throws a PgProtocolError', () => {
    const code = fc.oneof(
      fc.constantFrom(80877103, 80877104, 80877102, 3 << 16, (3 << 16) | 2, 2 << 16),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    const framed = fc.tuple(code, body, fc.integer({ min: -2, max: 2 })).map(([c, b, skew]) => {
      const out = Buffer.concat([int32(8 + b.length + skew), Buffer.alloc(4), b]);
      out.writeUInt32BE(c, 4);
      return out;
    });
    fc.assert(
      fc.property(fc.oneof(bytes(), framed), (buf) => {
        const result = protocolErrorOr(() => readStartupPacket(buf));
        if (result !== null && !(result instanceof PgProtocolError)) {
          expect(result.consumed).toBeLessThanOrEqual(buf.length);
          expect(result.consumed).toBeGreaterThanOrEqual(8);
        }
      }),
      RUNS,
    );
  });

  it('backend decoders return a value or throw a PgProtocolError', () => {
    const decoders: Array<(b: Buffer) => unknown> = [
      decodeRowDescription,
      decodeDataRow,
      decodeCommandComplete,
      decodeReadyForQuery,
      decodeErrorFields,
      decodeAuthentication,
      decodeParameterStatus,
      decodeBackendKeyData,
      decodeParameterDescription,
      decodeCopyResponse,
      passwordFromMessage,
      decodeSASLInitialResponse,
    ];
    fc.assert(
      fc.property(body, (b) => {
        for (const decode of decoders) protocolErrorOr(() => decode(b));
      }),
      RUNS,
    );
  });
});

describe('round trips', () => {
  function decodeRaw(raw: Buffer): FrontendMessage {
    const frames = new MessageReader().push(raw);
    expect(frames).toHaveLength(1);
    return decodeFrontend(frames[0]);
  }

  const format = fc.constantFrom(0, 1);
  const oid = fc.integer({ min: 0, max: 0xffffffff });
  const target = fc.constantFrom<'S' | 'P'>('S', 'P');

  it('Query, Parse, Describe, Execute and Close', () => {
    fc.assert(
      fc.property(
        text,
        text,
        fc.array(oid, { maxLength: 5 }),
        target,
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (a, b, types, t, rows) => {
          expect(decodeRaw(encodeQuery(a))).toEqual({ type: 'Query', sql: a });
          expect(decodeRaw(encodeParse(a, b, types))).toEqual({ type: 'Parse', name: a, sql: b, paramTypes: types });
          expect(decodeRaw(encodeDescribe(t, a))).toEqual({ type: 'Describe', target: t, name: a });
          expect(decodeRaw(encodeExecute(a, rows))).toEqual({ type: 'Execute', portal: a, maxRows: rows });
          expect(decodeRaw(encodeClose(t, b))).toEqual({ type: 'Close', target: t, name: b });
        },
      ),
      RUNS,
    );
  });

  it('Bind', () => {
    const bind = fc
      .tuple(text, text, fc.array(fc.option(bytes(16)), { maxLength: 6 }), fc.array(format, { maxLength: 4 }))
      .chain(([portal, statement, params, resultFormats]) =>
        fc
          .oneof(
            fc.constant<number[]>([]),
            fc.array(format, { minLength: 1, maxLength: 1 }),
            fc.array(format, { minLength: params.length, maxLength: params.length }),
          )
          .map((paramFormats) => ({ portal, statement, params, paramFormats, resultFormats })),
      );
    fc.assert(
      fc.property(bind, (m) => {
        const raw = encodeBind(m.portal, m.statement, m.params, m.paramFormats, m.resultFormats);
        expect(decodeRaw(raw)).toEqual({ type: 'Bind', ...m });
      }),
      RUNS,
    );
  });

  it('DataRow', () => {
    const value = fc.oneof(fc.constant(null), bytes(16), text);
    fc.assert(
      fc.property(fc.array(value, { maxLength: 8 }), (values) => {
        const raw = encodeDataRow(values);
        const expected = values.map((v) => (typeof v === 'string' ? Buffer.from(v) : v));
        expect(decodeDataRow(raw.subarray(5))).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('RowDescription', () => {
    const int16 = fc.integer({ min: -0x8000, max: 0x7fff });
    const field: fc.Arbitrary<FieldDescription> = fc.record({
      name: text,
      tableOid: oid,
      columnAttr: int16,
      typeOid: oid,
      typeSize: int16,
      typeModifier: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      format: int16,
    });
    fc.assert(
      fc.property(fc.array(field, { maxLength: 6 }), (fields) => {
        expect(decodeRowDescription(encodeRowDescription(fields).subarray(5))).toEqual(fields);
      }),
      RUNS,
    );
  });

  it('ErrorResponse', () => {
    fc.assert(
      fc.property(
        text,
        text,
        text,
        fc.option(text),
        fc.option(text),
        fc.option(text),
        (severity, code, message, detail, hint, position) => {
          const optional = { detail: detail ?? undefined, hint: hint ?? undefined, position: position ?? undefined };
          const raw = encodeErrorResponse({ severity, code, message, ...optional });
          const expected: Record<string, string> = { S: severity, V: severity, C: code, M: message };
          if (detail !== null) expected.D = detail;
          if (hint !== null) expected.H = hint;
          if (position !== null) expected.P = position;
          expect(decodeErrorFields(raw.subarray(5))).toEqual(expected);
        },
      ),
      RUNS,
    );
  });

  it('raw error fields', () => {
    const key = fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.dictionary(key, text, { maxKeys: 8 }), fc.constantFrom<'E' | 'N'>('E', 'N'), (fields, type) => {
        const raw = encodeErrorFields(type, fields);
        expect(raw[0]).toBe(type.charCodeAt(0));
        expect(decodeErrorFields(raw.subarray(5))).toEqual(fields);
      }),
      RUNS,
    );
  });
});
