import { BodyReader, HEADER_BYTES, MessageWriter, emptyMessage } from './codec';
import { PgProtocolError } from './errors';
import { MAX_SECRET_KEY_BYTES, MIN_SECRET_KEY_BYTES } from './framing';

export { encodeMessage } from './codec';

/** Type bytes of the messages a server sends. */
export const BackendType = {
  Authentication: 0x52, // 'R'
  BackendKeyData: 0x4b, // 'K'
  BindComplete: 0x32, // '2'
  CloseComplete: 0x33, // '3'
  CommandComplete: 0x43, // 'C'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyInResponse: 0x47, // 'G'
  CopyOutResponse: 0x48, // 'H'
  CopyBothResponse: 0x57, // 'W'
  DataRow: 0x44, // 'D'
  EmptyQueryResponse: 0x49, // 'I'
  ErrorResponse: 0x45, // 'E'
  FunctionCallResponse: 0x56, // 'V'
  NegotiateProtocolVersion: 0x76, // 'v'
  NoData: 0x6e, // 'n'
  NoticeResponse: 0x4e, // 'N'
  NotificationResponse: 0x41, // 'A'
  ParameterDescription: 0x74, // 't'
  ParameterStatus: 0x53, // 'S'
  ParseComplete: 0x31, // '1'
  PortalSuspended: 0x73, // 's'
  ReadyForQuery: 0x5a, // 'Z'
  RowDescription: 0x54, // 'T'
} as const;

export interface FieldDescription {
  name: string;
  tableOid: number;
  columnAttr: number;
  typeOid: number;
  typeSize: number;
  typeModifier: number;
  format: number;
}

export type TransactionStatus = 'I' | 'T' | 'E';

export type AuthenticationRequest =
  | { kind: 'ok' }
  | { kind: 'cleartext' }
  | { kind: 'md5'; salt: Buffer }
  | { kind: 'sasl'; mechanisms: string[] }
  | { kind: 'sasl-continue'; data: Buffer }
  | { kind: 'sasl-final'; data: Buffer }
  | { kind: 'unsupported'; code: number };

/** The fields of an ErrorResponse or NoticeResponse, by their one-letter code. */
export interface PgErrorFields {
  /** Written both as S (localized) and V (never localized). */
  severity: string;
  /** SQLSTATE. */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  position?: string;
  internalPosition?: string;
  internalQuery?: string;
  where?: string;
  schema?: string;
  table?: string;
  column?: string;
  dataType?: string;
  constraint?: string;
  file?: string;
  line?: string;
  routine?: string;
  /** Raw fields by one-letter code; a code already set by a named field above is ignored. */
  extra?: Record<string, string>;
}

const OPTIONAL_ERROR_FIELDS = [
  ['detail', 'D'],
  ['hint', 'H'],
  ['position', 'P'],
  ['internalPosition', 'p'],
  ['internalQuery', 'q'],
  ['where', 'W'],
  ['schema', 's'],
  ['table', 't'],
  ['column', 'c'],
  ['dataType', 'd'],
  ['constraint', 'n'],
  ['file', 'F'],
  ['line', 'L'],
  ['routine', 'R'],
] as const satisfies readonly (readonly [keyof PgErrorFields, string])[];

// Server text is decoded leniently (invalid bytes become U+FFFD): unlike client input it is not
// checked against a policy, and a server that speaks another encoding must not break the session.
const TEXT = 'lenient';

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}

// ---- decoders ----

export function decodeRowDescription(body: Buffer): FieldDescription[] {
  const r = new BodyReader(body, 'RowDescription', TEXT);
  const count = r.uint16();
  const fields: FieldDescription[] = [];
  for (let i = 0; i < count; i++) {
    fields.push({
      name: r.cstring(),
      tableOid: r.uint32(),
      columnAttr: r.int16(),
      typeOid: r.uint32(),
      typeSize: r.int16(),
      typeModifier: r.int32(),
      format: r.int16(),
    });
  }
  r.end();
  return fields;
}

function dataRowError(reason: string): never {
  throw new PgProtocolError(`DataRow: ${reason}`);
}

/** Column values as views of `body`; null for SQL NULL. Written out by hand: it runs once per row. */
export function decodeDataRow(body: Buffer): (Buffer | null)[] {
  const end = body.length;
  if (end < 2) dataRowError('message is truncated');
  const count = body.readUInt16BE(0);
  if (count * 4 > end - 2) dataRowError('message is truncated');
  const values = new Array<Buffer | null>(count);
  let pos = 2;
  for (let i = 0; i < count; i++) {
    if (end - pos < 4) dataRowError('message is truncated');
    const len = body.readInt32BE(pos);
    pos += 4;
    if (len === -1) {
      values[i] = null;
    } else {
      if (len < 0) dataRowError(`invalid value length ${len}`);
      if (end - pos < len) dataRowError('message is truncated');
      values[i] = body.subarray(pos, pos + len);
      pos += len;
    }
  }
  if (pos !== end) dataRowError('unexpected trailing bytes');
  return values;
}

export function decodeCommandComplete(body: Buffer): string {
  const r = new BodyReader(body, 'CommandComplete', TEXT);
  const tag = r.cstring();
  r.end();
  return tag;
}

export function decodeReadyForQuery(body: Buffer): TransactionStatus {
  if (body.length !== 1) throw new PgProtocolError('ReadyForQuery: body must be one byte');
  const status = String.fromCharCode(body[0]);
  if (status !== 'I' && status !== 'T' && status !== 'E') {
    throw new PgProtocolError(`ReadyForQuery: invalid transaction status ${hex(body[0])}`);
  }
  return status;
}

/**
 * ErrorResponse / NoticeResponse fields by one-letter code. A repeated code is refused: the proxy
 * masks and re-encodes these, and must not have to guess which copy the client would display.
 */
export function decodeErrorFields(body: Buffer): Record<string, string> {
  const r = new BodyReader(body, 'ErrorResponse', TEXT);
  const fields = Object.create(null) as Record<string, string>;
  for (;;) {
    const code = r.uint8();
    if (code === 0) break;
    const key = String.fromCharCode(code);
    const value = r.cstring();
    if (key in fields) r.fail(`duplicate field ${JSON.stringify(key)}`);
    fields[key] = value;
  }
  r.end();
  return fields;
}

export function decodeAuthentication(body: Buffer): AuthenticationRequest {
  const r = new BodyReader(body, 'Authentication', TEXT);
  const code = r.int32();
  let request: AuthenticationRequest;
  switch (code) {
    case 0:
      request = { kind: 'ok' };
      break;
    case 3:
      request = { kind: 'cleartext' };
      break;
    case 5:
      request = { kind: 'md5', salt: r.bytes(4) };
      break;
    case 10: {
      const mechanisms: string[] = [];
      for (;;) {
        const mechanism = r.cstring();
        if (mechanism === '') break;
        mechanisms.push(mechanism);
      }
      request = { kind: 'sasl', mechanisms };
      break;
    }
    case 11:
      request = { kind: 'sasl-continue', data: r.rest() };
      break;
    case 12:
      request = { kind: 'sasl-final', data: r.rest() };
      break;
    default:
      // Kerberos, GSS, SSPI...: their payload is not ours to check.
      r.rest();
      request = { kind: 'unsupported', code };
  }
  r.end();
  return request;
}

export function decodeParameterStatus(body: Buffer): { name: string; value: string } {
  const r = new BodyReader(body, 'ParameterStatus', TEXT);
  const name = r.cstring();
  const value = r.cstring();
  r.end();
  return { name, value };
}

export function decodeBackendKeyData(body: Buffer): { processId: number; secretKey: Buffer } {
  const keyBytes = body.length - 4;
  if (keyBytes < MIN_SECRET_KEY_BYTES || keyBytes > MAX_SECRET_KEY_BYTES) {
    throw new PgProtocolError('BackendKeyData: invalid secret key length');
  }
  // Copied: the key lives as long as the session, the receive buffer should not.
  return { processId: body.readInt32BE(0), secretKey: Buffer.from(body.subarray(4)) };
}

export function decodeParameterDescription(body: Buffer): number[] {
  const r = new BodyReader(body, 'ParameterDescription', TEXT);
  const count = r.uint16();
  const oids = new Array<number>(count);
  for (let i = 0; i < count; i++) oids[i] = r.uint32();
  r.end();
  return oids;
}

/** CopyInResponse, CopyOutResponse and CopyBothResponse share one layout. */
export function decodeCopyResponse(body: Buffer): { format: number; columnFormats: number[] } {
  const r = new BodyReader(body, 'CopyResponse', TEXT);
  const format = r.uint8();
  if (format > 1) r.fail(`invalid copy format ${format}`);
  const columnFormats = r.int16List();
  for (const f of columnFormats) if (f !== 0 && f !== 1) r.fail(`invalid column format ${f}`);
  r.end();
  return { format, columnFormats };
}

// ---- encoders: what the proxy sends to its clients ----

/** NUL would end the field early on the wire; it becomes U+FFFD so that the loss stays visible. */
function sanitize(value: string): string {
  return value.includes('\0') ? value.replace(/\0/g, '\uFFFD') : value;
}

function fieldCode(key: string): number {
  const code = key.length === 1 ? key.charCodeAt(0) : 0;
  if (code === 0 || code > 0xff) throw new RangeError(`error field code must be one byte, got ${JSON.stringify(key)}`);
  return code;
}

function errorMessage(type: number, fields: Iterable<[string, string]>): Buffer {
  const w = new MessageWriter(type, 128);
  for (const [key, value] of fields) {
    w.int8(fieldCode(key)).cstring(sanitize(value), 'error field');
  }
  return w.int8(0).finish();
}

function* namedErrorFields(fields: PgErrorFields): Generator<[string, string]> {
  const written = new Set(['S', 'V', 'C', 'M']);
  yield ['S', fields.severity];
  yield ['V', fields.severity];
  yield ['C', fields.code];
  yield ['M', fields.message];
  for (const [name, code] of OPTIONAL_ERROR_FIELDS) {
    const value = fields[name];
    if (value === undefined) continue;
    written.add(code);
    yield [code, value];
  }
  for (const [code, value] of Object.entries(fields.extra ?? {})) {
    if (written.has(code)) continue;
    written.add(code);
    yield [code, value];
  }
}

export function encodeErrorResponse(fields: PgErrorFields): Buffer {
  return errorMessage(BackendType.ErrorResponse, namedErrorFields(fields));
}

export function encodeNoticeResponse(fields: PgErrorFields): Buffer {
  return errorMessage(BackendType.NoticeResponse, namedErrorFields(fields));
}

/** Writes decoded fields back as they are, e.g. after the proxy masked their text. */
export function encodeErrorFields(type: 'E' | 'N', fields: Record<string, string>): Buffer {
  if (type !== 'E' && type !== 'N') throw new RangeError(`type must be 'E' or 'N', got ${String(type)}`);
  return errorMessage(type.charCodeAt(0), Object.entries(fields));
}

function authentication(code: number, payload?: Buffer): Buffer {
  const w = new MessageWriter(BackendType.Authentication, 4 + (payload?.length ?? 0)).int32(code);
  if (payload) w.bytes(payload);
  return w.finish();
}

export function encodeAuthenticationOk(): Buffer {
  return authentication(0);
}

export function encodeAuthenticationCleartextPassword(): Buffer {
  return authentication(3);
}

export function encodeAuthenticationMD5Password(salt: Buffer): Buffer {
  if (salt.length !== 4) throw new RangeError('MD5 salt must be 4 bytes');
  return authentication(5, salt);
}

export function encodeAuthenticationSASL(mechanisms: string[]): Buffer {
  const w = new MessageWriter(BackendType.Authentication).int32(10);
  for (const m of mechanisms) {
    if (m === '') throw new RangeError('SASL mechanism names must not be empty');
    w.cstring(m, 'SASL mechanism');
  }
  return w.int8(0).finish();
}

export function encodeAuthenticationSASLContinue(data: Buffer): Buffer {
  return authentication(11, data);
}

export function encodeAuthenticationSASLFinal(data: Buffer): Buffer {
  return authentication(12, data);
}

export function encodeParameterStatus(name: string, value: string): Buffer {
  return new MessageWriter(BackendType.ParameterStatus)
    .cstring(name, 'parameter name')
    .cstring(value, `parameter "${name}"`)
    .finish();
}

export function encodeBackendKeyData(processId: number, secretKey: Buffer): Buffer {
  if (secretKey.length < MIN_SECRET_KEY_BYTES || secretKey.length > MAX_SECRET_KEY_BYTES) {
    throw new RangeError(`secret key must be ${MIN_SECRET_KEY_BYTES} to ${MAX_SECRET_KEY_BYTES} bytes`);
  }
  return new MessageWriter(BackendType.BackendKeyData, 4 + secretKey.length).int32(processId).bytes(secretKey).finish();
}

export function encodeReadyForQuery(status: TransactionStatus): Buffer {
  if (status !== 'I' && status !== 'T' && status !== 'E') {
    throw new RangeError(`transaction status must be I, T or E, got ${String(status)}`);
  }
  return new MessageWriter(BackendType.ReadyForQuery, 1).int8(status.charCodeAt(0)).finish();
}

export function encodeRowDescription(fields: FieldDescription[]): Buffer {
  const w = new MessageWriter(BackendType.RowDescription, 2 + fields.length * 32).uint16(fields.length);
  for (const f of fields) {
    w.cstring(f.name, 'column name')
      .uint32(f.tableOid)
      .int16(f.columnAttr)
      .uint32(f.typeOid)
      .int16(f.typeSize)
      .int32(f.typeModifier)
      .int16(f.format);
  }
  return w.finish();
}

/** Sized exactly up front: a masking proxy re-encodes every row it changes. */
export function encodeDataRow(values: (Buffer | string | null)[]): Buffer {
  if (values.length > 0xffff) throw new RangeError(`a row has at most 65535 columns, got ${values.length}`);
  let size = HEADER_BYTES + 2;
  for (const v of values) {
    size += 4;
    if (v === null) continue;
    size += typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = BackendType.DataRow;
  out.writeInt32BE(size - 1, 1);
  out.writeUInt16BE(values.length, HEADER_BYTES);
  let pos = HEADER_BYTES + 2;
  for (const v of values) {
    if (v === null) {
      pos = out.writeInt32BE(-1, pos);
    } else if (typeof v === 'string') {
      const n = out.write(v, pos + 4, 'utf8');
      out.writeInt32BE(n, pos);
      pos += 4 + n;
    } else {
      out.writeInt32BE(v.length, pos);
      out.set(v, pos + 4);
      pos += 4 + v.length;
    }
  }
  return out;
}

export function encodeCommandComplete(tag: string): Buffer {
  return new MessageWriter(BackendType.CommandComplete, tag.length + 1).cstring(tag, 'command tag').finish();
}

export function encodeParameterDescription(typeOids: number[]): Buffer {
  const w = new MessageWriter(BackendType.ParameterDescription, 2 + typeOids.length * 4).uint16(typeOids.length);
  for (const oid of typeOids) w.uint32(oid);
  return w.finish();
}

/** CopyInResponse ('G'), CopyOutResponse ('H') or CopyBothResponse ('W'). */
export function encodeCopyResponse(type: 'G' | 'H' | 'W', format: number, columnFormats: number[]): Buffer {
  if (type !== 'G' && type !== 'H' && type !== 'W') throw new RangeError(`invalid copy response type ${String(type)}`);
  const w = new MessageWriter(type.charCodeAt(0), 3 + columnFormats.length * 2)
    .int8(format)
    .uint16(columnFormats.length);
  for (const f of columnFormats) w.int16(f);
  return w.finish();
}

export const encodeEmptyQueryResponse = emptyMessage(BackendType.EmptyQueryResponse);
export const encodeNoData = emptyMessage(BackendType.NoData);
export const encodeParseComplete = emptyMessage(BackendType.ParseComplete);
export const encodeBindComplete = emptyMessage(BackendType.BindComplete);
export const encodeCloseComplete = emptyMessage(BackendType.CloseComplete);
