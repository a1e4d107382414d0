import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import {
  BackendType,
  MessageReader,
  encodePasswordMessage,
  encodeSSLRequest,
  encodeStartupMessage,
  type Frame,
} from '@airlock/pg-wire';

/**
 * A bare PostgreSQL client over TLS for tests that need exact control of the wire: pipelined
 * extended-protocol messages, binary result formats. It reads every server message into a queue.
 */
export class RawPgClient {
  private readonly frames: Frame[] = [];
  private readonly reader = new MessageReader();
  private waiter: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.reader.push(chunk));
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static async connect(port: number, database: string, token: string): Promise<RawPgClient> {
    const socket = await openGatewayTls(port);
    const client = new RawPgClient(socket);
    client.send(encodeStartupMessage({ user: 'agent', database }));
    const auth = await client.next();
    if (auth.type !== BackendType.Authentication) throw new Error('expected an authentication request');
    client.send(encodePasswordMessage(token));
    await client.untilReady();
    return client;
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** The next server message. */
  async next(timeoutMs = 10000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('no message from the gateway in time');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100);
      });
      this.waiter = null;
    }
    return this.frames.shift()!;
  }

  /** Every message up to and including the next ReadyForQuery. */
  async untilReady(): Promise<Frame[]> {
    const out: Frame[] = [];
    for (;;) {
      const f = await this.next();
      out.push(f);
      if (f.type === BackendType.ReadyForQuery) return out;
    }
  }

  /** Every message up to the ReadyForQuery after a DataRow that holds `text`. */
  async untilText(text: string): Promise<Frame[]> {
    const out: Frame[] = [];
    let seen = false;
    for (;;) {
      const f = await this.next();
      out.push(f);
      if (f.type === BackendType.DataRow && f.body.includes(text)) seen = true;
      if (seen && f.type === BackendType.ReadyForQuery) return out;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Message types as letters, for readable assertions. */
/** A TCP connection to the gateway's PostgreSQL listener, upgraded to TLS (SSLRequest, then the handshake). */
export async function openGatewayTls(port: number): Promise<TLSSocket> {
  const raw = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    raw.once('connect', () => resolve());
    raw.once('error', reject);
  });
  raw.write(encodeSSLRequest());
  const answer = await new Promise<Buffer>((resolve) => raw.once('data', resolve));
  if (answer.toString() !== 'S') throw new Error('the gateway refused TLS');
  const socket = tlsConnect({ socket: raw, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

export function typesOf(frames: Frame[]): string {
  return frames.map((f) => String.fromCharCode(f.type)).join('');
}
