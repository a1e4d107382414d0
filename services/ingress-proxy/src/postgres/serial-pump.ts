import type { Duplex } from 'node:stream';
import type { Frame } from '@airlock/pg-wire';

/** Pauses a socket while any reason holds it (a pending handler, a full peer), resumes when none does. */
export class FlowGate {
  private readonly reasons = new Set<string>();

  constructor(private readonly socket: Duplex) {}

  hold(reason: string): void {
    if (this.reasons.size === 0) this.socket.pause();
    this.reasons.add(reason);
  }

  release(reason: string): void {
    if (!this.reasons.delete(reason)) return;
    if (this.reasons.size === 0) this.socket.resume();
  }
}

/**
 * Handles the frames of one direction strictly in order. A handler may return a promise (a
 * policy question, a catalog look-up): the socket is held until it settles and frames that
 * arrive meanwhile wait their turn. `flush` runs before each wait and after each burst, to
 * write what was gathered.
 */
export class SerialPump {
  private inbox: Frame[] = [];
  private busy = false;
  private stopped = false;

  constructor(
    private readonly gate: FlowGate,
    private readonly handle: (frame: Frame) => void | Promise<void>,
    private readonly flush: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  push(frames: Frame[]): void {
    if (this.stopped) return;
    if (this.inbox.length === 0) this.inbox = frames;
    else for (const f of frames) this.inbox.push(f);
    if (!this.busy) void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.inbox = [];
  }

  private async run(): Promise<void> {
    this.busy = true;
    try {
      let i = 0;
      while (i < this.inbox.length && !this.stopped) {
        const r = this.handle(this.inbox[i++]);
        if (r !== undefined) {
          this.flush();
          this.gate.hold('pump');
          try {
            await r;
          } finally {
            this.gate.release('pump');
          }
        }
      }
      this.inbox = [];
      if (!this.stopped) this.flush();
    } catch (err) {
      this.stop();
      this.onError(err);
    } finally {
      this.busy = false;
    }
  }
}
