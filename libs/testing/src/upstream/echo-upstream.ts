import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A small HTTP upstream for tests and the local demo: answers every request with JSON that
 * echoes what it received, and keeps the requests so a test can prove what reached it.
 */
export class EchoUpstream {
  readonly received: ReceivedRequest[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Fields merged into every JSON answer, e.g. secrets planted for a masking test. */
  planted: Record<string, unknown> = {};

  static async start(port = 0, host = '127.0.0.1'): Promise<EchoUpstream> {
    const holder: { self?: EchoUpstream } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: ReceivedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        };
        holder.self?.received.push(r);
        if (holder.self && holder.self.received.length > 10000) holder.self.received.shift();
        if (r.url.includes('/reflect')) return reflect(r, res);
        const body = JSON.stringify({
          ...holder.self?.planted,
          ok: true,
          method: r.method,
          url: r.url,
          items: [
            { id: 1, name: 'first' },
            { id: 2, name: 'second' },
          ],
          echo: r.body,
        });
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-upstream': 'echo',
        });
        res.end(body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    holder.self = new EchoUpstream(server, `http://${host}:${addr.port}`);
    return holder.self;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The request's headers as the reflecting endpoint encodes them, for a test to look for. */
export function reflectedHeaders(headers: IncomingHttpHeaders): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join('\n');
}

/**
 * What a debug endpoint does: hands the request's headers back, in the body (as they are, in
 * base64 and percent-encoded), in a response header, a redirect, a challenge and a cookie.
 */
function reflect(r: ReceivedRequest, res: ServerResponse): void {
  const all = reflectedHeaders(r.headers);
  const auth = String(r.headers.authorization ?? '');
  const body = JSON.stringify({
    headers: r.headers,
    base64: Buffer.from(all).toString('base64'),
    urlEncoded: encodeURIComponent(all),
  });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-echo-authorization': auth,
    location: `/back?auth=${encodeURIComponent(auth)}`,
    'www-authenticate': `Bearer realm="echo", error_description="${auth.replace(/"/g, '')}"`,
    'set-cookie': [`session=${Buffer.from(auth).toString('base64')}; Path=/; HttpOnly`],
  });
  res.end(body);
}

if (require.main === module) {
  const port = Number(process.argv[2] ?? 18080);
  EchoUpstream.start(port).then(
    (u) => process.stdout.write(`demo upstream on ${u.url}\n`),
    (err: Error) => {
      process.stderr.write(`demo upstream failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
