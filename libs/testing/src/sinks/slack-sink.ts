import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackMessage {
  /** Milliseconds since the epoch when the message arrived. */
  at: number;
  body: Record<string, unknown>;
  /** Every text of the message (text fallback, blocks, button URLs), joined: for assertions. */
  text: string;
}

export interface SinkAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A stand-in Slack incoming webhook: records every message it accepts and answers what the test
 * scripts (a queue of answers, then 200 "ok"), so retries, rate limits and permanent refusals can
 * be exercised against the real notification workers.
 */
export class SlackSink {
  readonly messages: SlackMessage[] = [];
  /** Every request, accepted or not, with its arrival time and the status answered. */
  readonly attempts: Array<{ at: number; status: number; text: string }> = [];
  private readonly script: SinkAnswer[] = [];
  /** Called with each accepted message (after it is recorded). */
  onMessage?: (m: SlackMessage) => void;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<SlackSink> {
    const holder: { self?: SlackSink } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const self = holder.self!;
        const raw = Buffer.concat(chunks).toString('utf8');
        const answer = self.script.shift() ?? { status: 200, body: 'ok' };
        const at = Date.now();
        self.attempts.push({ at, status: answer.status, text: raw });
        if (answer.status === 200) {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(raw) as Record<string, unknown>;
          } catch {
            /* recorded as text only */
          }
          const m = { at, body, text: raw };
          self.messages.push(m);
          self.onMessage?.(m);
        }
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? (answer.status === 200 ? 'ok' : 'error'));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    holder.self = new SlackSink(server, `http://127.0.0.1:${port}/services/T000/B000/hook`);
    return holder.self;
  }

  /** The next requests get these answers, in order; after them, 200. */
  answer(...answers: SinkAnswer[]): void {
    this.script.push(...answers);
  }

  /** Messages that mention `needle` (an approval id, say). */
  about(needle: string): SlackMessage[] {
    return this.messages.filter((m) => m.text.includes(needle));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The URLs of a message's buttons (Block Kit actions), in order. */
export function buttonUrls(message: SlackMessage): string[] {
  const urls: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'button' && typeof o.url === 'string') urls.push(o.url);
      Object.values(o).forEach(walk);
    }
  };
  walk(message.body.blocks);
  return urls;
}
