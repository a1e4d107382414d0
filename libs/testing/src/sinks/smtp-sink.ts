import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { freePort } from '../harness/infra';

export interface ReceivedMail {
  at: number;
  from: string;
  to: string[];
  /** The whole message as sent (headers and MIME parts), quoted-printable soft breaks undone. */
  raw: string;
}

/**
 * A stand-in SMTP server on a fixed port that can be stopped and started again (an outage) and
 * told to refuse messages permanently (5xx). Records every message it accepts.
 */
export class SmtpSink {
  readonly mails: ReceivedMail[] = [];
  /** Answer each DATA with this code (e.g. 550) instead of accepting it; undefined accepts. */
  refuseWith?: number;
  /** Connections seen, accepted or refused: how often a sender tried. */
  connections = 0;
  private server?: SMTPServer;

  private constructor(readonly port: number) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink(await freePort());
    await sink.up();
    return sink;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onConnect: (_session, cb) => {
        this.connections++;
        cb();
      },
      onData: (stream, session: SMTPServerSession, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.refuseWith !== undefined) {
            const err = new Error('mailbox unavailable') as Error & { responseCode: number };
            err.responseCode = this.refuseWith;
            cb(err);
            return;
          }
          this.mails.push({
            at: Date.now(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks)
              .toString('utf8')
              .replace(/=\r?\n/g, ''),
          });
          cb();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and drops open connections: senders see connection refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  about(needle: string): ReceivedMail[] {
    return this.mails.filter((m) => m.raw.includes(needle));
  }

  stop(): Promise<void> {
    return this.down();
  }
}
