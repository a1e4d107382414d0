import {
  FrontendType,
  MessageReader,
  PgProtocolError,
  decodeFrontend,
  decodeSASLInitialResponse,
  encodeBind,
  encodeClose,
  encodeCopyData,
  encodeCopyDone,
  encodeCopyFail,
  encodeDescribe,
  encodeExecute,
  encodeFlush,
  encodeMessage,
  encodePasswordMessage,
  encodeParse,
  encodeQuery,
  encodeSASLInitialResponse,
  encodeSASLResponse,
  encodeStartupMessage,
  encodeSync,
  encodeTerminate,
  passwordFromMessage,
  readStartupPacket,
  type Frame,
  type FrontendMessage,
} from './index';

/** Goes through the reader, so every encoded length is checked too. */
function frameOf(raw: Buffer): Frame {
  const reader = new MessageReader();
  const frames = reader.push(raw);
  expect(frames).toHaveLength(1);
  expect(reader.pending).toBe(0);
  return frames[0];
}

function decode(raw: Buffer): FrontendMessage {
  return decodeFrontend(frameOf(raw));
}

function message(type: string, ...parts: Array<string | number[] | Buffer>): Frame {
  const body = Buffer.concat(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p as Uint8Array))),
  );
  return frameOf(encodeMessage(type.charCodeAt(0), body));
}

const int16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const int32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

describe('frontend messages', () => {
  it('maps names to type bytes', () => {
    const letters = Object.fromEntries(Object.entries(FrontendType).map(([k, v]) => [k, String.fromCharCode(v)]));
    expect(letters).toEqual({
      Query: 'Q',
      Parse: 'P',
      Bind: 'B',
      Describe: 'D',
      Execute: 'E',
      Close: 'C',
      Sync: 'S',
      Flush: 'H',
      Terminate: 'X',
      CopyData: 'd',
      CopyDone: 'c',
      CopyFail: 'f',
      Password: 'p',
      FunctionCall: 'F',
    });
  });

  it.each<[string, Buffer, FrontendMessage]>([
    ['Query', encodeQuery('SELECT 1; -- é'), { type: 'Query', sql: 'SELECT 1; -- é' }],
    ['empty Query', encodeQuery(''), { type: 'Query', sql: '' }],
    [
      'Parse',
      encodeParse('s1', 'SELECT $1::int, $2', [23, 0xffffffff]),
      { type: 'Parse', name: 's1', sql: 'SELECT $1::int, $2', paramTypes: [23, 0xffffffff] },
    ],
    ['Parse without types', encodeParse('', 'SELECT 1'), { type: 'Parse', name: '', sql: 'SELECT 1', paramTypes: [] }],
    [
      'Bind',
      encodeBind('p1', 's1', [Buffer.from('42'), null, Buffer.alloc(0)], [0, 1, 0], [1]),
      {
        type: 'Bind',
        portal: 'p1',
        statement: 's1',
        paramFormats: [0, 1, 0],
        params: [Buffer.from('42'), null, Buffer.alloc(0)],
        resultFormats: [1],
      },
    ],
    [
      'Bind with one shared format',
      encodeBind('', '', [Buffer.from([1]), Buffer.from([2])], [1]),
      {
        type: 'Bind',
        portal: '',
        statement: '',
        paramFormats: [1],
        params: [Buffer.from([1]), Buffer.from([2])],
        resultFormats: [],
      },
    ],
    ['Describe S', encodeDescribe('S', 's1'), { type: 'Describe', target: 'S', name: 's1' }],
    ['Describe P', encodeDescribe('P', ''), { type: 'Describe', target: 'P', name: '' }],
    ['Execute', encodeExecute('p1', 100), { type: 'Execute', portal: 'p1', maxRows: 100 }],
    ['Execute without limit', encodeExecute(''), { type: 'Execute', portal: '', maxRows: 0 }],
    ['Close', encodeClose('S', 's1'), { type: 'Close', target: 'S', name: 's1' }],
    ['Sync', encodeSync(), { type: 'Sync' }],
    ['Flush', encodeFlush(), { type: 'Flush' }],
    ['Terminate', encodeTerminate(), { type: 'Terminate' }],
    ['CopyData', encodeCopyData(Buffer.from('1\t2\n')), { type: 'CopyData', data: Buffer.from('1\t2\n') }],
    ['CopyDone', encodeCopyDone(), { type: 'CopyDone' }],
    ['CopyFail', encodeCopyFail('aborted'), { type: 'CopyFail', message: 'aborted' }],
    ['PasswordMessage', encodePasswordMessage('secret'), { type: 'Password', data: Buffer.from('secret\0') }],
    ['SASLResponse', encodeSASLResponse(Buffer.from('c=biws')), { type: 'Password', data: Buffer.from('c=biws') }],
  ])('round-trips %s', (_name, raw, expected) => {
    expect(decode(raw)).toEqual(expected);
  });

  it('returns Bind values as views of the frame', () => {
    const frame = frameOf(encodeBind('', '', [Buffer.from('abc')]));
    const msg = decodeFrontend(frame);
    expect(msg.type === 'Bind' && msg.params[0]?.buffer).toBe(frame.raw.buffer);
  });

  it('counts parameters as unsigned, like the server (up to 65535)', () => {
    const params = Array.from({ length: 40000 }, (_, i) => (i % 2 ? null : Buffer.from([i & 0xff])));
    const msg = decode(encodeBind('', 's', params));
    expect(msg.type === 'Bind' && msg.params).toEqual(params);
    const types = Array.from({ length: 65535 }, () => 25);
    const parse = decode(encodeParse('', 'x', types));
    expect(parse.type === 'Parse' && parse.paramTypes).toHaveLength(65535);
  });

  it('decodes a FunctionCall', () => {
    const frame = message('F', int32(1598), int16(1), int16(1), int16(2), int32(-1), int32(2), [7, 8], int16(0));
    expect(decodeFrontend(frame)).toEqual({ type: 'FunctionCall', functionOid: 1598 });
  });

  it('keeps a leading byte order mark as part of the SQL', () => {
    expect(decode(encodeQuery('\uFEFFSELECT 1'))).toEqual({ type: 'Query', sql: '\uFEFFSELECT 1' });
  });

  it.each<[string, Frame]>([
    ['an unknown type', message('Z')],
    ['a Query without its terminator', message('Q', 'SELECT 1')],
    ['a Query with trailing bytes', message('Q', 'SELECT 1\0x')],
    ['a Query with two terminators', message('Q', 'SELECT 1\0\0')],
    ['a truncated Parse type list', message('P', 's\0q\0', int16(2), int32(23))],
    ['a Bind whose value runs past the body', message('B', '\0\0', int16(0), int16(1), int32(10), [1, 2], int16(0))],
    ['a Bind with a negative value length', message('B', '\0\0', int16(0), int16(1), int32(-2), int16(0))],
    [
      'a Bind with 2 formats for 3 values',
      message('B', '\0\0', int16(2), int16(0), int16(0), int16(3), int32(-1), int32(-1), int32(-1), int16(0)),
    ],
    ['a Bind with format code 2', message('B', '\0\0', int16(1), int16(2), int16(0), int16(0))],
    ['a Bind with a negative format count', message('B', '\0\0', int16(-1), int16(0), int16(0))],
    ['a Bind without result formats', message('B', '\0\0', int16(0), int16(0))],
    ['a Describe with target X', message('D', 'Xname\0')],
    ['a Close without a target', message('C')],
    ['an Execute without maxRows', message('E', 'p\0', [0, 0])],
    ['a Sync with a body', message('S', [0])],
    ['a Terminate with a body', message('X', [0])],
    ['a CopyDone with a body', message('c', [0])],
    ['a FunctionCall with trailing bytes', message('F', int32(1), int16(0), int16(0), int16(0), [0])],
  ])('refuses %s', (_what, frame) => {
    expect(() => decodeFrontend(frame)).toThrow(PgProtocolError);
  });

  it('refuses SQL that is not UTF-8, with SQLSTATE 22021', () => {
    const frame = message('Q', [0x53, 0xc3, 0x28, 0]);
    expect(() => decodeFrontend(frame)).toThrow(
      expect.objectContaining({ name: 'PgProtocolError', sqlstate: '22021' }),
    );
  });

  it('refuses to encode a string with a NUL in it', () => {
    expect(() => encodeQuery('SELECT 1\0; DROP TABLE t')).toThrow(PgProtocolError);
    expect(() => encodeParse('a\0b', 'SELECT 1')).toThrow(PgProtocolError);
    expect(() => encodeStartupMessage({ user: 'a\0b' })).toThrow(PgProtocolError);
  });

  it('refuses to encode a Bind whose format count matches no rule', () => {
    expect(() => encodeBind('', '', [null, null, null], [0, 0])).toThrow(RangeError);
  });
});

describe('authentication messages from the client', () => {
  it('reads a cleartext password with exactly one terminator', () => {
    const data = decode(encodePasswordMessage('pä55'));
    expect(data.type === 'Password' && passwordFromMessage(data.data)).toBe('pä55');
    expect(() => passwordFromMessage(Buffer.from('secret'))).toThrow(PgProtocolError);
    expect(() => passwordFromMessage(Buffer.from('secret\0\0'))).toThrow(PgProtocolError);
    expect(() => passwordFromMessage(Buffer.from('sec\0ret\0'))).toThrow(PgProtocolError);
  });

  it('round-trips a SASLInitialResponse', () => {
    const msg = decode(encodeSASLInitialResponse('SCRAM-SHA-256', Buffer.from('n,,n=,r=abc')));
    expect(msg.type).toBe('Password');
    expect(msg.type === 'Password' && decodeSASLInitialResponse(msg.data)).toEqual({
      mechanism: 'SCRAM-SHA-256',
      data: Buffer.from('n,,n=,r=abc'),
    });
  });

  it('reads a SASLInitialResponse without data and refuses a bad length', () => {
    expect(decodeSASLInitialResponse(Buffer.from([...Buffer.from('M\0'), 0xff, 0xff, 0xff, 0xff]))).toEqual({
      mechanism: 'M',
      data: null,
    });
    expect(() => decodeSASLInitialResponse(Buffer.from([...Buffer.from('M\0'), 0xff, 0xff, 0xff, 0xfe]))).toThrow(
      PgProtocolError,
    );
    expect(() => decodeSASLInitialResponse(Buffer.from([...Buffer.from('M\0'), 0, 0, 0, 5, 1]))).toThrow(
      PgProtocolError,
    );
  });
});

describe('start-up encoders', () => {
  it('writes protocol 3.0 with the parameters in order', () => {
    const raw = encodeStartupMessage({ user: 'u', database: 'd' });
    expect(raw).toEqual(Buffer.from([0, 0, 0, 27, 0, 3, 0, 0, ...Buffer.from('user\0u\0database\0d\0\0')]));
    expect(readStartupPacket(raw)?.packet).toEqual({
      kind: 'startup',
      major: 3,
      minor: 0,
      params: { user: 'u', database: 'd' },
    });
  });

  it('refuses to encode an empty parameter name, which would end the list early', () => {
    expect(() => encodeStartupMessage({ '': 'x' })).toThrow(RangeError);
  });
});
