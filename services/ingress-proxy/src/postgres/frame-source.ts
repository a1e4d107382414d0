import type { Socket } from 'node:net';
import { MessageReader, PgProtocolError, type Frame } from '@airlock/pg-wire';

/**
 * Typed messages from a socket during a handshake, one at a time (`next()`), with a deadline.
 * After the handshake `detach()` hands back what was read ahead so the relay continues from it.
 */
export class FrameSource {
  private readonly frames: Frame[] = [];
  private waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer) => {
    try {
      this.frames.push(...this.reader.push(chunk));
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.deliver();
  };
  private readonly onEnd = () => this.fail(new PgProtocolError('the peer closed the connection', '08006'));
  private readonly onError = (err: Error) => this.fail(err);

  constructor(
    private readonly socket: Socket,
    readonly reader: MessageReader,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  /** `timedOut` makes the error of a missed deadline (by default: the server did not answer). */
  next(timeoutMs: number, timedOut?: () => Error): Promise<Frame> {
    if (this.failure) return Promise.reject(this.failure);
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(timedOut ? timedOut() : new PgProtocolError('the server did not answer in time', '08006'));
      }, timeoutMs);
      this.waiter = {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }

  /** Stops listening; returns frames already read but not consumed. The socket is paused. */
  detach(): Frame[] {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    return this.frames.splice(0);
  }

  private deliver(): void {
    if (!this.waiter) return;
    const f = this.frames.shift();
    if (!f) return;
    const w = this.waiter;
    this.waiter = null;
    w.resolve(f);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
  }
}
