import {
  BackendType,
  PgProtocolError,
  decodeAuthentication,
  decodeBackendKeyData,
  decodeCommandComplete,
  decodeCopyResponse,
  decodeDataRow,
  decodeErrorFields,
  decodeParameterDescription,
  decodeParameterStatus,
  decodeReadyForQuery,
  decodeRowDescription,
  encodeAuthenticationCleartextPassword,
  encodeAuthenticationMD5Password,
  encodeAuthenticationOk,
  encodeAuthenticationSASL,
  encodeAuthenticationSASLContinue,
  encodeAuthenticationSASLFinal,
  encodeBackendKeyData,
  encodeBindComplete,
  encodeCloseComplete,
  encodeCommandComplete,
  encodeCopyResponse,
  encodeDataRow,
  encodeEmptyQueryResponse,
  encodeErrorFields,
  encodeErrorResponse,
  encodeMessage,
  encodeNoData,
  encodeNoticeResponse,
  encodeParameterDescription,
  encodeParameterStatus,
  encodeParseComplete,
  encodeReadyForQuery,
  encodeRowDescription,
  type FieldDescription,
} from './index';

/** The body of an encoded message, after checking its header. */
function bodyOf(raw: Buffer, type: string): Buffer {
  expect(String.fromCharCode(raw[0])).toBe(type);
  expect(raw.readInt32BE(1)).toBe(raw.length - 1);
  return raw.subarray(5);
}

describe('backend messages', () => {
  it('maps names to type bytes', () => {
    const letters = Object.fromEntries(Object.entries(BackendType).map(([k, v]) => [k, String.fromCharCode(v)]));
    expect(letters).toEqual({
      Authentication: 'R',
      BackendKeyData: 'K',
      BindComplete: '2',
      CloseComplete: '3',
      CommandComplete: 'C',
      CopyData: 'd',
      CopyDone: 'c',
      CopyInResponse: 'G',
      CopyOutResponse: 'H',
      CopyBothResponse: 'W',
      DataRow: 'D',
      EmptyQueryResponse: 'I',
      ErrorResponse: 'E',
      FunctionCallResponse: 'V',
      NegotiateProtocolVersion: 'v',
      NoData: 'n',
      NoticeResponse: 'N',
      NotificationResponse: 'A',
      ParameterDescription: 't',
      ParameterStatus: 'S',
      ParseComplete: '1',
      PortalSuspended: 's',
      ReadyForQuery: 'Z',
      RowDescription: 'T',
    });
    expect(BackendType.DataRow).toBe(0x44);
  });

  it('encodes the empty messages', () => {
    expect(encodeEmptyQueryResponse()).toEqual(Buffer.from([0x49, 0, 0, 0, 4]));
    expect(encodeNoData()).toEqual(Buffer.from([0x6e, 0, 0, 0, 4]));
    expect(encodeParseComplete()).toEqual(Buffer.from([0x31, 0, 0, 0, 4]));
    expect(encodeBindComplete()).toEqual(Buffer.from([0x32, 0, 0, 0, 4]));
    expect(encodeCloseComplete()).toEqual(Buffer.from([0x33, 0, 0, 0, 4]));
  });

  it('hands out a fresh copy of a constant message each time', () => {
    const a = encodeNoData();
    a.fill(0);
    expect(encodeNoData()).toEqual(Buffer.from([0x6e, 0, 0, 0, 4]));
  });

  it('frames any body with encodeMessage', () => {
    expect(encodeMessage(0x41, Buffer.from([1, 2]))).toEqual(Buffer.from([0x41, 0, 0, 0, 6, 1, 2]));
    expect(() => encodeMessage(256, Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe('RowDescription', () => {
  const fields: FieldDescription[] = [
    { name: 'id', tableOid: 16384, columnAttr: 1, typeOid: 23, typeSize: 4, typeModifier: -1, format: 0 },
    { name: 'naïve', tableOid: 0xfffffffe, columnAttr: 0, typeOid: 25, typeSize: -1, typeModifier: -1, format: 1 },
    { name: '', tableOid: 0, columnAttr: -7, typeOid: 1043, typeSize: -1, typeModifier: 36, format: 0 },
  ];

  it('round-trips', () => {
    expect(decodeRowDescription(bodyOf(encodeRowDescription(fields), 'T'))).toEqual(fields);
    expect(decodeRowDescription(bodyOf(encodeRowDescription([]), 'T'))).toEqual([]);
  });

  it('refuses a truncated or padded body', () => {
    const body = bodyOf(encodeRowDescription(fields), 'T');
    expect(() => decodeRowDescription(body.subarray(0, body.length - 1))).toThrow(PgProtocolError);
    expect(() => decodeRowDescription(Buffer.concat([body, Buffer.from([0])]))).toThrow(PgProtocolError);
    expect(() => decodeRowDescription(Buffer.from([0, 1, 0x61]))).toThrow(PgProtocolError);
  });
});

describe('DataRow', () => {
  it('round-trips NULL, empty, text and binary values', () => {
    const body = bodyOf(encodeDataRow([null, '', 'héllo', Buffer.from([0, 255])]), 'D');
    expect(decodeDataRow(body)).toEqual([null, Buffer.alloc(0), Buffer.from('héllo'), Buffer.from([0, 255])]);
    expect(decodeDataRow(bodyOf(encodeDataRow([]), 'D'))).toEqual([]);
  });

  it('returns views of the body', () => {
    const body = bodyOf(encodeDataRow(['abc']), 'D');
    expect(decodeDataRow(body)[0]?.buffer).toBe(body.buffer);
  });

  it.each([
    ['an empty body', []],
    ['a count without values', [0, 1]],
    ['a length of -2', [0, 1, 0xff, 0xff, 0xff, 0xfe]],
    ['a value past the body', [0, 1, 0, 0, 0, 3, 0x61]],
    ['trailing bytes', [0, 1, 0xff, 0xff, 0xff, 0xff, 0]],
    ['a huge count', [0xff, 0xff, 0, 0, 0, 0]],
  ])('refuses %s', (_what, bytes) => {
    expect(() => decodeDataRow(Buffer.from(bytes))).toThrow(PgProtocolError);
  });
});

describe('simple messages', () => {
  it('round-trips CommandComplete', () => {
    expect(decodeCommandComplete(bodyOf(encodeCommandComplete('INSERT 0 5'), 'C'))).toBe('INSERT 0 5');
    expect(() => decodeCommandComplete(Buffer.from('SELECT 1'))).toThrow(PgProtocolError);
    expect(() => decodeCommandComplete(Buffer.from('SELECT 1\0\0'))).toThrow(PgProtocolError);
  });

  it.each(['I', 'T', 'E'] as const)('round-trips ReadyForQuery %s', (status) => {
    expect(decodeReadyForQuery(bodyOf(encodeReadyForQuery(status), 'Z'))).toBe(status);
  });

  it('refuses a bad ReadyForQuery', () => {
    expect(() => decodeReadyForQuery(Buffer.from('X'))).toThrow(PgProtocolError);
    expect(() => decodeReadyForQuery(Buffer.from('II'))).toThrow(PgProtocolError);
    expect(() => decodeReadyForQuery(Buffer.alloc(0))).toThrow(PgProtocolError);
  });

  it('round-trips ParameterStatus', () => {
    const body = bodyOf(encodeParameterStatus('TimeZone', 'Europe/Berlin'), 'S');
    expect(decodeParameterStatus(body)).toEqual({ name: 'TimeZone', value: 'Europe/Berlin' });
    expect(() => decodeParameterStatus(Buffer.from('TimeZone\0'))).toThrow(PgProtocolError);
  });

  it('round-trips BackendKeyData with 4- and 256-byte keys', () => {
    for (const key of [Buffer.from([9, 8, 7, 6]), Buffer.alloc(256, 1)]) {
      expect(decodeBackendKeyData(bodyOf(encodeBackendKeyData(-5, key), 'K'))).toEqual({
        processId: -5,
        secretKey: key,
      });
    }
    expect(() => decodeBackendKeyData(Buffer.alloc(7))).toThrow(PgProtocolError);
    expect(() => decodeBackendKeyData(Buffer.alloc(261))).toThrow(PgProtocolError);
    expect(() => decodeBackendKeyData(Buffer.alloc(2))).toThrow(PgProtocolError);
    expect(() => encodeBackendKeyData(1, Buffer.alloc(3))).toThrow(RangeError);
  });

  it('round-trips ParameterDescription', () => {
    expect(decodeParameterDescription(bodyOf(encodeParameterDescription([23, 25, 0xffffffff]), 't'))).toEqual([
      23, 25, 0xffffffff,
    ]);
    expect(() => decodeParameterDescription(Buffer.from([0, 1, 0, 0]))).toThrow(PgProtocolError);
  });

  it.each(['G', 'H', 'W'] as const)('round-trips the copy response %s', (type) => {
    const body = bodyOf(encodeCopyResponse(type, 1, [0, 1, 1]), type);
    expect(decodeCopyResponse(body)).toEqual({ format: 1, columnFormats: [0, 1, 1] });
  });

  it('refuses a bad copy response', () => {
    expect(() => decodeCopyResponse(Buffer.from([2, 0, 0]))).toThrow(PgProtocolError);
    expect(() => decodeCopyResponse(Buffer.from([0, 0, 1, 0, 2]))).toThrow(PgProtocolError);
    expect(() => decodeCopyResponse(Buffer.from([0, 0, 2, 0, 0]))).toThrow(PgProtocolError);
  });
});

describe('Authentication', () => {
  it('round-trips every request the proxy answers', () => {
    const cases = [
      [encodeAuthenticationOk(), { kind: 'ok' }],
      [encodeAuthenticationCleartextPassword(), { kind: 'cleartext' }],
      [encodeAuthenticationMD5Password(Buffer.from([1, 2, 3, 4])), { kind: 'md5', salt: Buffer.from([1, 2, 3, 4]) }],
      [
        encodeAuthenticationSASL(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']),
        { kind: 'sasl', mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] },
      ],
      [encodeAuthenticationSASLContinue(Buffer.from('r=x')), { kind: 'sasl-continue', data: Buffer.from('r=x') }],
      [encodeAuthenticationSASLFinal(Buffer.from('v=y')), { kind: 'sasl-final', data: Buffer.from('v=y') }],
    ] as const;
    for (const [raw, expected] of cases) expect(decodeAuthentication(bodyOf(raw, 'R'))).toEqual(expected);
  });

  it('reports other methods as unsupported', () => {
    expect(decodeAuthentication(Buffer.from([0, 0, 0, 7]))).toEqual({ kind: 'unsupported', code: 7 });
    expect(decodeAuthentication(Buffer.from([0, 0, 0, 8, 1, 2]))).toEqual({ kind: 'unsupported', code: 8 });
  });

  it.each([
    ['an empty body', []],
    ['a truncated code', [0, 0, 0]],
    ['Ok with a payload', [0, 0, 0, 0, 1]],
    ['MD5 with a short salt', [0, 0, 0, 5, 1, 2, 3]],
    ['MD5 with a long salt', [0, 0, 0, 5, 1, 2, 3, 4, 5]],
    ['SASL without the final terminator', [0, 0, 0, 10, 0x41, 0]],
    ['SASL with bytes after the list', [0, 0, 0, 10, 0x41, 0, 0, 1]],
  ])('refuses %s', (_what, bytes) => {
    expect(() => decodeAuthentication(Buffer.from(bytes))).toThrow(PgProtocolError);
  });
});

describe('ErrorResponse and NoticeResponse', () => {
  it('writes S, V, C, M, then the optional fields, then extra ones', () => {
    const raw = encodeErrorResponse({
      severity: 'ERROR',
      code: '42501',
      message: 'permission denied',
      detail: 'd',
      hint: 'h',
      position: '8',
      extra: { t: 'accounts', M: 'ignored: M is already set' },
    });
    const body = bodyOf(raw, 'E');
    const fields = decodeErrorFields(body);
    expect(Object.keys(fields)).toEqual(['S', 'V', 'C', 'M', 'D', 'H', 'P', 't']);
    expect(fields).toEqual({
      S: 'ERROR',
      V: 'ERROR',
      C: '42501',
      M: 'permission denied',
      D: 'd',
      H: 'h',
      P: '8',
      t: 'accounts',
    });
  });

  it('writes a notice under N', () => {
    const raw = encodeNoticeResponse({ severity: 'WARNING', code: '01000', message: 'careful', where: 'here' });
    expect(decodeErrorFields(bodyOf(raw, 'N'))).toEqual({
      S: 'WARNING',
      V: 'WARNING',
      C: '01000',
      M: 'careful',
      W: 'here',
    });
  });

  it('replaces a NUL inside a field instead of cutting the message short', () => {
    const raw = encodeErrorResponse({ severity: 'ERROR', code: 'XX000', message: 'a\0b' });
    expect(decodeErrorFields(bodyOf(raw, 'E')).M).toBe('a\uFFFDb');
  });

  it('writes decoded fields back unchanged', () => {
    const original = Buffer.from('SERROR\0VERROR\0C23505\0Mduplicate key\0Dsecret detail\0\xe9x\0\0', 'latin1');
    const fields = decodeErrorFields(original);
    expect(fields['\xe9']).toBe('x');
    expect(bodyOf(encodeErrorFields('E', fields), 'E')).toEqual(original);
    fields.D = 'masked';
    expect(decodeErrorFields(bodyOf(encodeErrorFields('N', fields), 'N')).D).toBe('masked');
  });

  it('refuses to write a field code that is not one byte', () => {
    expect(() => encodeErrorFields('E', { MM: 'x' })).toThrow(RangeError);
    expect(() => encodeErrorFields('E', { '': 'x' })).toThrow(RangeError);
    expect(() => encodeErrorFields('E', { '\u0100': 'x' })).toThrow(RangeError);
  });

  it.each([
    ['an empty body', ''],
    ['no final terminator', 'SERROR\0'],
    ['a value without its NUL', 'SERROR'],
    ['bytes after the terminator', 'SERROR\0\0x'],
    ['a repeated field', 'Ma\0Mb\0\0'],
  ])('refuses %s', (_what, body) => {
    expect(() => decodeErrorFields(Buffer.from(body, 'latin1'))).toThrow(PgProtocolError);
  });

  it('decodes fields into a record without a prototype', () => {
    const fields = decodeErrorFields(Buffer.from('Mx\0\0'));
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(decodeErrorFields(Buffer.from([0]))).toEqual({});
  });
});
