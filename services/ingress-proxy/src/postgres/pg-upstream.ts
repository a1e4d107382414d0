import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  BackendType,
  MessageReader,
  PgProtocolError,
  ScramSha256Client,
  decodeAuthentication,
  decodeBackendKeyData,
  decodeErrorFields,
  decodeParameterStatus,
  decodeReadyForQuery,
  encodeCancelRequest,
  encodePasswordMessage,
  encodeSASLInitialResponse,
  encodeSASLResponse,
  encodeSSLRequest,
  encodeStartupMessage,
  md5PasswordResponse,
  type Frame,
} from '@airlock/pg-wire';
import { FrameSource } from './frame-source';

export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-full';

/** Where and as whom the gateway signs in upstream: from a vault lease, never from the agent. */
export interface UpstreamTarget {
  host: string;
  port: number;
  database: string;
  sslmode: SslMode;
  user: string;
  password: string;
  /** Start-up parameters passed on from the agent (application_name, client_encoding, ...). */
  params: Record<string, string>;
}

export interface UpstreamConnection {
  socket: Socket;
  reader: MessageReader;
  /** Messages read after ReadyForQuery, to be relayed first. */
  pending: Frame[];
  parameters: Array<{ name: string; value: string }>;
  backendKey: { processId: number; secretKey: Buffer };
  tls: boolean;
}

/** Why signing in upstream failed; the detail is for the logs, never for the agent. */
export class UpstreamConnectError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'tls' | 'auth' | 'protocol',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamConnectError';
  }
}

/** Parses the upstream URL of a PostgreSQL connection (postgres://host:port/db?sslmode=...). */
export function upstreamAddress(url: URL): { host: string; port: number; database: string; sslmode: SslMode } {
  const sslmode = (url.searchParams.get('sslmode') ?? 'prefer') as SslMode;
  if (!['disable', 'prefer', 'require', 'verify-full'].includes(sslmode)) {
    throw new UpstreamConnectError(`unsupported sslmode ${sslmode}`, 'protocol');
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new UpstreamConnectError('the upstream URL names no database', 'protocol');
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 5432), database, sslmode };
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host, port });
    s.setNoDelay(true);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new UpstreamConnectError(`connect to ${host}:${port} timed out`, 'unreachable'));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onError);
      resolve(s);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(
        new UpstreamConnectError(`cannot connect to ${host}:${port}: ${err.message}`, 'unreachable', { cause: err }),
      );
    };
    s.once('error', onError);
  });
}

function readByte(socket: Socket, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new UpstreamConnectError('no answer to SSLRequest', 'tls')), timeoutMs);
    const onData = (chunk: Buffer) => {
      if (chunk.length !== 1) {
        done(new UpstreamConnectError('unexpected answer to SSLRequest', 'tls'));
        return;
      }
      done(null, chunk[0]);
    };
    const onEnd = () => done(new UpstreamConnectError('the server closed the connection during SSLRequest', 'tls'));
    const done = (err: Error | null, byte?: number) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.pause();
      if (err) reject(err);
      else resolve(byte!);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
    socket.resume();
  });
}

async function negotiateTls(
  raw: Socket,
  target: Pick<UpstreamTarget, 'host' | 'sslmode'>,
  ca: Buffer | undefined,
  timeoutMs: number,
): Promise<{ socket: Socket; tls: boolean }> {
  if (target.sslmode === 'disable') return { socket: raw, tls: false };
  raw.write(encodeSSLRequest());
  const answer = await readByte(raw, timeoutMs);
  if (answer !== 0x53) {
    if (target.sslmode === 'prefer' && answer === 0x4e) return { socket: raw, tls: false };
    throw new UpstreamConnectError('the upstream server does not accept TLS', 'tls');
  }
  const verify = target.sslmode === 'verify-full';
  const socket = await new Promise<Socket>((resolve, reject) => {
    const t = tlsConnect({
      socket: raw,
      // The name the certificate must carry under verify-full (an IP address is checked as one).
      host: target.host,
      servername: /^[\d.:]+$/.test(target.host) ? undefined : target.host,
      rejectUnauthorized: verify,
      ...(verify && ca ? { ca } : {}),
    });
    const timer = setTimeout(() => reject(new UpstreamConnectError('TLS handshake timed out', 'tls')), timeoutMs);
    t.once('secureConnect', () => {
      clearTimeout(timer);
      t.off('error', onErr);
      resolve(t);
    });
    const onErr = (err: Error) => {
      clearTimeout(timer);
      reject(new UpstreamConnectError(`TLS to the upstream failed: ${err.message}`, 'tls', { cause: err }));
    };
    t.once('error', onErr);
  });
  socket.setNoDelay(true);
  return { socket, tls: true };
}

/**
 * Opens an upstream session and signs in with the leased credential (SCRAM-SHA-256, md5 or
 * cleartext, as the server asks). Resolves at the first ReadyForQuery.
 */
export async function connectUpstream(
  target: UpstreamTarget,
  opts: { timeoutMs: number; ca?: Buffer },
): Promise<UpstreamConnection> {
  const raw = await openSocket(target.host, target.port, opts.timeoutMs);
  let socket: Socket = raw;
  try {
    const negotiated = await negotiateTls(raw, target, opts.ca, opts.timeoutMs);
    socket = negotiated.socket;
    const reader = new MessageReader();
    const source = new FrameSource(socket, reader);
    socket.resume();
    socket.write(encodeStartupMessage({ ...target.params, user: target.user, database: target.database }));
    const parameters: Array<{ name: string; value: string }> = [];
    let backendKey: UpstreamConnection['backendKey'] | undefined;
    let scram: ScramSha256Client | undefined;
    let scramVerified = false;
    for (;;) {
      const frame = await source.next(opts.timeoutMs);
      switch (frame.type) {
        case BackendType.Authentication: {
          const auth = decodeAuthentication(frame.body);
          if (auth.kind === 'ok') {
            // A server that skips the SCRAM final step never proved it knows the password.
            if (scram && !scramVerified) throw new UpstreamConnectError('the server did not complete SCRAM', 'auth');
            break;
          }
          if (auth.kind === 'cleartext') {
            socket.write(encodePasswordMessage(target.password));
          } else if (auth.kind === 'md5') {
            socket.write(encodePasswordMessage(md5PasswordResponse(target.user, target.password, auth.salt)));
          } else if (auth.kind === 'sasl') {
            if (!auth.mechanisms.includes('SCRAM-SHA-256')) {
              throw new UpstreamConnectError(`no supported SASL mechanism in ${auth.mechanisms.join(', ')}`, 'auth');
            }
            scram = new ScramSha256Client(target.password);
            socket.write(encodeSASLInitialResponse(scram.mechanism, scram.clientFirstMessage()));
          } else if (auth.kind === 'sasl-continue' && scram) {
            socket.write(encodeSASLResponse(scram.handleServerFirst(auth.data)));
          } else if (auth.kind === 'sasl-final' && scram) {
            scram.verifyServerFinal(auth.data);
            scramVerified = true;
          } else {
            throw new UpstreamConnectError(`unsupported authentication request (${auth.kind})`, 'auth');
          }
          break;
        }
        case BackendType.ParameterStatus:
          parameters.push(decodeParameterStatus(frame.body));
          break;
        case BackendType.BackendKeyData:
          backendKey = decodeBackendKeyData(frame.body);
          break;
        case BackendType.ErrorResponse: {
          const f = decodeErrorFields(frame.body);
          const kind = f.C?.startsWith('28') ? 'auth' : 'protocol';
          throw new UpstreamConnectError(`the upstream refused the session: ${f.C ?? '?'} ${f.M ?? ''}`, kind);
        }
        case BackendType.ReadyForQuery: {
          decodeReadyForQuery(frame.body);
          const pending = source.detach();
          return {
            socket,
            reader,
            pending,
            parameters,
            backendKey: backendKey ?? { processId: 0, secretKey: Buffer.alloc(4) },
            tls: socket !== raw,
          };
        }
        case BackendType.NoticeResponse:
        case BackendType.NegotiateProtocolVersion:
          break;
        default:
          throw new UpstreamConnectError(
            `unexpected message ${String.fromCharCode(frame.type)} during start-up`,
            'protocol',
          );
      }
    }
  } catch (err) {
    socket.destroy();
    raw.destroy();
    if (err instanceof UpstreamConnectError) throw err;
    if (err instanceof PgProtocolError) {
      throw new UpstreamConnectError(err.message, err.sqlstate === '28P01' ? 'auth' : 'protocol', { cause: err });
    }
    throw new UpstreamConnectError((err as Error).message, 'protocol', { cause: err });
  }
}

/** Sends a CancelRequest for an upstream backend on a connection of its own, as the protocol wants. */
export async function cancelUpstream(
  target: Pick<UpstreamTarget, 'host' | 'port' | 'sslmode'>,
  key: { processId: number; secretKey: Buffer },
  opts: { timeoutMs: number; ca?: Buffer },
): Promise<void> {
  const raw = await openSocket(target.host, target.port, opts.timeoutMs);
  try {
    const { socket } = await negotiateTls(raw, target, opts.ca, opts.timeoutMs);
    await new Promise<void>((resolve) => {
      socket.write(encodeCancelRequest(key.processId, key.secretKey), () => resolve());
    });
    // The server closes the connection once it has read the request.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, opts.timeoutMs);
      socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      socket.resume();
    });
    socket.destroy();
  } finally {
    raw.destroy();
  }
}
