import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ResolvedRequest {
  /** The method the server acts on: X-HTTP-Method-Override and its kin win, as in many frameworks. */
  method: string;
  /** The request target as it arrived. */
  raw: string;
  /** The path the server routes on: rewrite headers applied, decoded, ";" stripped, dots resolved, lower case. */
  path: string;
  headers: IncomingHttpHeaders;
}

/**
 * An upstream that reads requests the way many servers and frameworks do: it decodes
 * percent-encoding (twice, as some stacks do), strips ";" parameters from path segments,
 * resolves "." and ".." (also "..;"), ignores case, and honours method-override and URL-rewrite
 * headers. It answers with what it resolved, so a test can prove what a request reached.
 */
export class LenientUpstream {
  readonly received: ResolvedRequest[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static resolve(target: string, headers: IncomingHttpHeaders): string {
    const rewritten = header(headers['x-original-url']) ?? header(headers['x-rewrite-url']) ?? target;
    const path = rewritten.split('?')[0];
    const out: string[] = [];
    for (const raw of decodeTwice(path).replace(/\\/g, '/').split('/').slice(1)) {
      const segment = raw.split(';')[0];
      if (segment === '.' || segment === '') continue;
      if (segment === '..') out.pop();
      else out.push(segment);
    }
    return `/${out.join('/')}`.toLowerCase();
  }

  static async start(host = '127.0.0.1'): Promise<LenientUpstream> {
    const holder: { self?: LenientUpstream } = {};
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const method = (
          header(req.headers['x-http-method-override']) ??
          header(req.headers['x-http-method']) ??
          header(req.headers['x-method-override']) ??
          req.method ??
          ''
        ).toUpperCase();
        const r: ResolvedRequest = {
          method,
          raw: req.url ?? '',
          path: LenientUpstream.resolve(req.url ?? '', req.headers),
          headers: req.headers,
        };
        holder.self?.received.push(r);
        const body = JSON.stringify({ method: r.method, path: r.path, raw: r.raw, admin: r.path.startsWith('/admin') });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    holder.self = new LenientUpstream(server, `http://${host}:${addr.port}`);
    return holder.self;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function decodeOnce(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function decodeTwice(s: string): string {
  return decodeOnce(decodeOnce(s));
}
