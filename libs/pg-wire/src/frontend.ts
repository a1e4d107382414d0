import { BodyReader, MessageWriter, emptyMessage } from './codec';
import { PgProtocolError } from './errors';
import type { Frame } from './framing';
import {
  CANCEL_REQUEST_CODE,
  MAX_SECRET_KEY_BYTES,
  MIN_SECRET_KEY_BYTES,
  PROTOCOL_3_0,
  SSL_REQUEST_CODE,
} from './framing';

/** Type bytes of the messages a client sends after start-up. */
export const FrontendType = {
  Query: 0x51, // 'Q'
  Parse: 0x50, // 'P'
  Bind: 0x42, // 'B'
  Describe: 0x44, // 'D'
  Execute: 0x45, // 'E'
  Close: 0x43, // 'C'
  Sync: 0x53, // 'S'
  Flush: 0x48, // 'H'
  Terminate: 0x58, // 'X'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyFail: 0x66, // 'f'
  Password: 0x70, // 'p'
  FunctionCall: 0x46, // 'F'
} as const;

export type FrontendMessage =
  | { type: 'Query'; sql: string }
  | { type: 'Parse'; name: string; sql: string; paramTypes: number[] }
  | {
      type: 'Bind';
      portal: string;
      statement: string;
      paramFormats: number[];
      params: (Buffer | null)[];
      resultFormats: number[];
    }
  | { type: 'Describe'; target: 'S' | 'P'; name: string }
  | { type: 'Execute'; portal: string; maxRows: number }
  | { type: 'Close'; target: 'S' | 'P'; name: string }
  | { type: 'Sync' }
  | { type: 'Flush' }
  | { type: 'Terminate' }
  | { type: 'CopyData'; data: Buffer }
  | { type: 'CopyDone' }
  | { type: 'CopyFail'; message: string }
  /** PasswordMessage, SASLInitialResponse or SASLResponse: only the authentication state tells which. */
  | { type: 'Password'; data: Buffer }
  | { type: 'FunctionCall'; functionOid: number };

const TEXT = 0;
const BINARY = 1;

/**
 * Decodes a client message. Text is strict UTF-8 (see `decodeText`), so the proxy inspects exactly
 * what the server will receive; a client that negotiated another client_encoding must be refused
 * before this point.
 */
export function decodeFrontend(frame: Frame): FrontendMessage {
  const name = FRONTEND_NAMES.get(frame.type);
  if (name === undefined) {
    throw new PgProtocolError(`unknown frontend message type 0x${frame.type.toString(16).padStart(2, '0')}`);
  }
  const r = new BodyReader(frame.body, name, 'strict');
  const message = decodeBody(frame.type, r);
  r.end();
  return message;
}

const FRONTEND_NAMES = new Map<number, string>(Object.entries(FrontendType).map(([name, code]) => [code, name]));

function decodeBody(type: number, r: BodyReader): FrontendMessage {
  switch (type) {
    case FrontendType.Query:
      return { type: 'Query', sql: r.cstring() };
    case FrontendType.Parse: {
      const name = r.cstring();
      const sql = r.cstring();
      const count = r.uint16();
      const paramTypes = new Array<number>(count);
      for (let i = 0; i < count; i++) paramTypes[i] = r.uint32();
      return { type: 'Parse', name, sql, paramTypes };
    }
    case FrontendType.Bind:
      return decodeBind(r);
    case FrontendType.Describe:
      return { type: 'Describe', target: target(r), name: r.cstring() };
    case FrontendType.Execute:
      return { type: 'Execute', portal: r.cstring(), maxRows: r.int32() };
    case FrontendType.Close:
      return { type: 'Close', target: target(r), name: r.cstring() };
    case FrontendType.Sync:
      return { type: 'Sync' };
    case FrontendType.Flush:
      return { type: 'Flush' };
    case FrontendType.Terminate:
      return { type: 'Terminate' };
    case FrontendType.CopyData:
      return { type: 'CopyData', data: r.rest() };
    case FrontendType.CopyDone:
      return { type: 'CopyDone' };
    case FrontendType.CopyFail:
      return { type: 'CopyFail', message: r.cstring() };
    case FrontendType.Password:
      return { type: 'Password', data: r.rest() };
    case FrontendType.FunctionCall:
      return decodeFunctionCall(r);
    default:
      return r.fail('unknown message type');
  }
}

function target(r: BodyReader): 'S' | 'P' {
  const t = r.uint8();
  if (t === 0x53) return 'S';
  if (t === 0x50) return 'P';
  return r.fail(`invalid target byte 0x${t.toString(16).padStart(2, '0')}`);
}

/** Format codes a proxy can interpret; the server rejects any other value too. */
function formats(r: BodyReader): number[] {
  const list = r.int16List();
  for (const f of list) if (f !== TEXT && f !== BINARY) r.fail(`unsupported format code ${f}`);
  return list;
}

/** Parameter values: int32 length, -1 for NULL. Values are views of the body. */
function values(r: BodyReader): (Buffer | null)[] {
  const count = r.uint16();
  const out = new Array<Buffer | null>(count);
  for (let i = 0; i < count; i++) {
    const len = r.int32();
    if (len === -1) out[i] = null;
    else if (len < 0) r.fail(`invalid value length ${len}`);
    else out[i] = r.bytes(len);
  }
  return out;
}

function decodeBind(r: BodyReader): FrontendMessage {
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats = formats(r);
  const params = values(r);
  if (paramFormats.length > 1 && paramFormats.length !== params.length) {
    r.fail(`${paramFormats.length} parameter formats for ${params.length} parameters`);
  }
  const resultFormats = formats(r);
  return { type: 'Bind', portal, statement, paramFormats, params, resultFormats };
}

/** Only the function is reported; the arguments are still checked so that the frame is known to be well formed. */
function decodeFunctionCall(r: BodyReader): FrontendMessage {
  const functionOid = r.uint32();
  const argFormats = formats(r);
  const args = values(r);
  if (argFormats.length > 1 && argFormats.length !== args.length) {
    r.fail(`${argFormats.length} argument formats for ${args.length} arguments`);
  }
  const resultFormat = r.int16();
  if (resultFormat !== TEXT && resultFormat !== BINARY) r.fail(`unsupported format code ${resultFormat}`);
  return { type: 'FunctionCall', functionOid };
}

/** The cleartext password of a PasswordMessage. */
export function passwordFromMessage(body: Buffer): string {
  const r = new BodyReader(body, 'PasswordMessage', 'strict');
  const password = r.cstring();
  r.end();
  return password;
}

/** The first message of a SASL exchange; `data` is null when the client sent length -1. */
export function decodeSASLInitialResponse(body: Buffer): { mechanism: string; data: Buffer | null } {
  const r = new BodyReader(body, 'SASLInitialResponse', 'strict');
  const mechanism = r.cstring();
  const len = r.int32();
  let data: Buffer | null = null;
  if (len >= 0) data = r.bytes(len);
  else if (len !== -1) r.fail(`invalid data length ${len}`);
  r.end();
  return { mechanism, data };
}

// ---- encoders: what the proxy sends upstream as a client ----

export function encodeStartupMessage(params: Record<string, string>): Buffer {
  const w = new MessageWriter(null).int32(PROTOCOL_3_0);
  for (const [name, value] of Object.entries(params)) {
    if (name === '') throw new RangeError('start-up parameter names must not be empty');
    w.cstring(name, 'start-up parameter name').cstring(value, `start-up parameter "${name}"`);
  }
  return w.int8(0).finish();
}

export function encodeSSLRequest(): Buffer {
  return new MessageWriter(null, 4).int32(SSL_REQUEST_CODE).finish();
}

export function encodeCancelRequest(processId: number, secretKey: Buffer): Buffer {
  if (secretKey.length < MIN_SECRET_KEY_BYTES || secretKey.length > MAX_SECRET_KEY_BYTES) {
    throw new RangeError(`secret key must be ${MIN_SECRET_KEY_BYTES} to ${MAX_SECRET_KEY_BYTES} bytes`);
  }
  return new MessageWriter(null, 8 + secretKey.length)
    .int32(CANCEL_REQUEST_CODE)
    .int32(processId)
    .bytes(secretKey)
    .finish();
}

export function encodePasswordMessage(password: string): Buffer {
  return new MessageWriter(FrontendType.Password).cstring(password, 'password').finish();
}

export function encodeSASLInitialResponse(mechanism: string, data: Buffer): Buffer {
  return new MessageWriter(FrontendType.Password, mechanism.length + 5 + data.length)
    .cstring(mechanism, 'SASL mechanism')
    .int32(data.length)
    .bytes(data)
    .finish();
}

export function encodeSASLResponse(data: Buffer): Buffer {
  return new MessageWriter(FrontendType.Password, data.length).bytes(data).finish();
}

export function encodeQuery(sql: string): Buffer {
  return new MessageWriter(FrontendType.Query, sql.length + 1).cstring(sql, 'query').finish();
}

export function encodeParse(name: string, sql: string, paramTypes: number[] = []): Buffer {
  const w = new MessageWriter(FrontendType.Parse, name.length + sql.length + 4 + paramTypes.length * 4)
    .cstring(name, 'statement name')
    .cstring(sql, 'query')
    .uint16(paramTypes.length);
  for (const oid of paramTypes) w.uint32(oid);
  return w.finish();
}

export function encodeBind(
  portal: string,
  statement: string,
  params: (Buffer | null)[],
  paramFormats: number[] = [],
  resultFormats: number[] = [],
): Buffer {
  if (paramFormats.length > 1 && paramFormats.length !== params.length) {
    throw new RangeError(`${paramFormats.length} parameter formats for ${params.length} parameters`);
  }
  let size = portal.length + statement.length + 8 + 2 * (paramFormats.length + resultFormats.length);
  for (const p of params) size += 4 + (p === null ? 0 : p.length);
  const w = new MessageWriter(FrontendType.Bind, size)
    .cstring(portal, 'portal name')
    .cstring(statement, 'statement name')
    .uint16(paramFormats.length);
  for (const f of paramFormats) w.int16(f);
  w.uint16(params.length);
  for (const p of params) {
    if (p === null) w.int32(-1);
    else w.int32(p.length).bytes(p);
  }
  w.uint16(resultFormats.length);
  for (const f of resultFormats) w.int16(f);
  return w.finish();
}

function targetByte(t: 'S' | 'P'): number {
  if (t !== 'S' && t !== 'P') throw new RangeError(`target must be 'S' or 'P', got ${String(t)}`);
  return t.charCodeAt(0);
}

export function encodeDescribe(target: 'S' | 'P', name: string): Buffer {
  return new MessageWriter(FrontendType.Describe).int8(targetByte(target)).cstring(name, 'name').finish();
}

export function encodeExecute(portal: string, maxRows = 0): Buffer {
  return new MessageWriter(FrontendType.Execute).cstring(portal, 'portal name').int32(maxRows).finish();
}

export function encodeClose(target: 'S' | 'P', name: string): Buffer {
  return new MessageWriter(FrontendType.Close).int8(targetByte(target)).cstring(name, 'name').finish();
}

export const encodeSync = emptyMessage(FrontendType.Sync);
export const encodeFlush = emptyMessage(FrontendType.Flush);
export const encodeTerminate = emptyMessage(FrontendType.Terminate);
export const encodeCopyDone = emptyMessage(FrontendType.CopyDone);

export function encodeCopyData(data: Buffer): Buffer {
  return new MessageWriter(FrontendType.CopyData, data.length).bytes(data).finish();
}

export function encodeCopyFail(message: string): Buffer {
  return new MessageWriter(FrontendType.CopyFail).cstring(message, 'CopyFail message').finish();
}
