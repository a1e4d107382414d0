import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { truncateText } from '@airlock/contracts';
import {
  MessageReader,
  MessageTooLargeError,
  PgProtocolError,
  readStartupPacket,
  type Frame,
  type StartupPacket,
} from '@airlock/pg-wire';
import { FrameSource } from './frame-source';
import { PgGatewayError, SqlState } from './pg-errors';

/** Start-up parameters an agent may set; anything else (role, options, ...) could change who it is upstream. */
export const PASSED_PARAMETERS = new Set([
  'application_name',
  'client_encoding',
  'datestyle',
  'timezone',
  'extra_float_digits',
  'intervalstyle',
  'search_path',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
]);
/** Parameters that are about the connection itself, not settings: read, never passed on. */
const CONNECTION_PARAMETERS = new Set(['user', 'database', 'fallback_application_name']);

/**
 * One deadline for everything the client controls before it is authenticated (start-up packets,
 * TLS, password): a client that sends each part just before its own timeout gets no more time.
 */
export class HandshakeDeadline {
  private readonly end: number;

  constructor(
    readonly ms: number,
    private readonly now: () => number = Date.now,
  ) {
    this.end = now() + ms;
  }

  /** Milliseconds left, at least 1 so that a timer still fires (and fails) at once. */
  remaining(): number {
    return Math.max(1, this.end - this.now());
  }

  expired(): PgGatewayError {
    return new PgGatewayError(
      SqlState.ProtocolViolation,
      `the start-up did not complete within ${this.ms} ms; the connection is closed`,
      'routing',
      { fatal: true },
    );
  }
}

/** PostgreSQL's own limit on a start-up packet. */
export const MAX_STARTUP_PACKET_BYTES = 10000;

export type FirstPacket =
  | { kind: 'startup'; socket: Socket; tls: boolean; params: Record<string, string>; minor: number }
  | { kind: 'cancel'; processId: number; secretKey: Buffer };

/** Reads untyped start-up packets from a fresh socket, upgrading to TLS when asked and possible. */
export async function readFirstPacket(
  conn: { socket: Socket },
  secureContext: SecureContext | undefined,
  deadline: HandshakeDeadline,
  maxPacketBytes = MAX_STARTUP_PACKET_BYTES,
): Promise<FirstPacket> {
  let current: Socket = conn.socket;
  let tls = false;
  let buffered: Buffer = Buffer.alloc(0);
  for (;;) {
    const { packet, rest } = await nextPacket(current, buffered, deadline, maxPacketBytes);
    buffered = rest;
    switch (packet.kind) {
      case 'ssl':
        if (tls) throw new PgGatewayError(SqlState.ProtocolViolation, 'SSLRequest after TLS was set up', 'routing');
        if (buffered.length > 0) {
          // Bytes after an SSLRequest before the handshake could be injected by anyone on the path.
          throw new PgGatewayError(SqlState.ProtocolViolation, 'unexpected data after SSLRequest', 'routing');
        }
        if (!secureContext) {
          current.write('N');
          continue;
        }
        current.write('S');
        current = await upgrade(current, secureContext, deadline);
        // Errors from here on must be answered inside TLS.
        conn.socket = current;
        tls = true;
        continue;
      case 'gssenc':
        // GSSAPI encryption is not offered; the client falls back to TLS or plain, as the protocol says.
        current.write('N');
        continue;
      case 'cancel':
        return { kind: 'cancel', processId: packet.processId, secretKey: packet.secretKey };
      case 'startup': {
        if (packet.major !== 3) {
          throw new PgGatewayError(
            SqlState.FeatureNotSupported,
            `unsupported frontend protocol ${packet.major}.${packet.minor}: the gateway supports 3.0`,
            'routing',
            { fatal: true },
          );
        }
        if (buffered.length > 0) current.unshift(buffered);
        return { kind: 'startup', socket: current, tls, params: packet.params, minor: packet.minor };
      }
    }
  }
}

function nextPacket(
  socket: Socket,
  buffered: Buffer,
  deadline: HandshakeDeadline,
  maxPacketBytes: number,
): Promise<{ packet: StartupPacket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = buffered;
    const timer = setTimeout(() => done(deadline.expired()), deadline.remaining());
    const tryRead = (): boolean => {
      let r: { packet: StartupPacket; consumed: number } | null;
      try {
        r = readStartupPacket(buf, maxPacketBytes);
      } catch (err) {
        done(startupPacketError(err, buf, maxPacketBytes));
        return true;
      }
      if (!r) return false;
      done(null, { packet: r.packet, rest: buf.subarray(r.consumed) });
      return true;
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      tryRead();
    };
    const onEnd = () => done(new PgProtocolError('the client closed the connection during start-up'));
    const done = (err: Error | null, value?: { packet: StartupPacket; rest: Buffer }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      if (err) reject(err);
      else resolve(value!);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    if (!tryRead()) socket.resume();
  });
}

/** A start-up packet whose length is out of bounds gets a message that says what the bound is. */
function startupPacketError(err: unknown, buf: Buffer, maxPacketBytes: number): Error {
  if (!(err instanceof PgProtocolError) || buf.length < 4) return err as Error;
  const length = buf.readInt32BE(0);
  if (length <= maxPacketBytes) return err;
  return new PgGatewayError(
    SqlState.ProtocolViolation,
    `the start-up packet announces ${length} bytes; the gateway accepts at most ${maxPacketBytes} bytes before authentication`,
    'routing',
    { fatal: true, cause: err },
  );
}

function upgrade(socket: Socket, context: SecureContext, deadline: HandshakeDeadline): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const t = new TLSSocket(socket, { isServer: true, secureContext: context });
    const timer = setTimeout(() => {
      t.destroy();
      reject(deadline.expired());
    }, deadline.remaining());
    t.once('secure', () => {
      clearTimeout(timer);
      t.off('error', onError);
      t.setNoDelay(true);
      resolve(t);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(
        new PgGatewayError(SqlState.ProtocolViolation, `TLS handshake failed: ${err.message}`, 'routing', {
          cause: err,
        }),
      );
    };
    t.once('error', onError);
  });
}

/** Splits start-up parameters into the connection name and the settings passed upstream. */
export function startupSettings(params: Record<string, string>): {
  connection: string;
  user: string;
  passed: Record<string, string>;
} {
  const connection = params.database ?? params.user;
  if (!connection) {
    throw new PgGatewayError(SqlState.InvalidCatalogName, 'name the connection as the database', 'routing', {
      fatal: true,
    });
  }
  const passed: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const key = name.toLowerCase();
    if (CONNECTION_PARAMETERS.has(key)) continue;
    if (key === 'replication') {
      throw new PgGatewayError(
        SqlState.FeatureNotSupported,
        'replication connections are not supported by the gateway',
        'routing',
        {
          fatal: true,
        },
      );
    }
    if (!PASSED_PARAMETERS.has(key)) {
      throw new PgGatewayError(
        SqlState.FeatureNotSupported,
        `start-up parameter "${truncateText(name, 64)}" is not accepted by the gateway; use SET after connecting`,
        'routing',
        { fatal: true },
      );
    }
    if (key === 'client_encoding') {
      if (!isUtf8EncodingName(value)) {
        // Statements are checked as UTF-8; another encoding would make the checked text differ from the run one.
        throw new PgGatewayError(
          SqlState.FeatureNotSupported,
          'the gateway speaks UTF8 only: set client_encoding to UTF8',
          'routing',
          { fatal: true },
        );
      }
      passed[key] = 'UTF8';
      continue;
    }
    passed[key] = value;
  }
  if (!passed.application_name && params.fallback_application_name) {
    passed.application_name = params.fallback_application_name;
  }
  return { connection, user: params.user ?? '', passed };
}

/**
 * Whether PostgreSQL takes an encoding name as UTF-8: it compares names with everything but
 * letters and digits dropped, in any case (so `'utf-8'`, as asyncpg sends it, is UTF8), and
 * knows `unicode` as another name of it.
 */
export function isUtf8EncodingName(value: string): boolean {
  const clean = value.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  return clean === 'utf8' || clean === 'unicode';
}

/**
 * Reads the client's PasswordMessage after AuthenticationCleartextPassword. The reader's limit
 * is the pre-authentication one: a message announcing more is refused from its header alone.
 */
export async function readPassword(
  socket: Socket,
  reader: MessageReader,
  deadline: HandshakeDeadline,
): Promise<{ frame: Frame; rest: Frame[] }> {
  const source = new FrameSource(socket, reader);
  socket.resume();
  try {
    const frame = await source.next(deadline.remaining(), () => deadline.expired());
    return { frame, rest: source.detach() };
  } catch (err) {
    source.detach();
    if (err instanceof MessageTooLargeError) {
      throw new PgGatewayError(
        SqlState.ProtocolViolation,
        `a message of ${err.length} bytes before authentication: the gateway accepts at most ${err.limit} bytes ` +
          'until the password is checked',
        'routing',
        { fatal: true, cause: err },
      );
    }
    throw err;
  }
}
