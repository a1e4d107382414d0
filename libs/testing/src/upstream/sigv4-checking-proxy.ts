import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/**
 * A front for a local S3 server that checks AWS Signature Version 4 the way S3 does: it
 * recomputes the signature of each request as received (method, path, query, the signed
 * headers) with the secret it knows for the access key, answers 403 SignatureDoesNotMatch
 * on any difference, and forwards good requests. (s3rver checks only the access key id of a
 * V4 request.)
 */
export class SigV4CheckingProxy {
  readonly rejected: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target: URL, keys: Record<string, string>): Promise<SigV4CheckingProxy> {
    const holder: { self?: SigV4CheckingProxy } = {};
    const server = createServer((req, res) => {
      void check(req, keys).then((problem) => {
        if (problem) {
          holder.self?.rejected.push(problem);
          return refuse(res, problem);
        }
        const up = request(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        up.on('error', () => res.destroy());
        req.pipe(up);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    holder.self = new SigV4CheckingProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return holder.self;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function check(req: IncomingMessage, keys: Record<string, string>): Promise<string | undefined> {
  const m = AUTH.exec(String(req.headers.authorization ?? ''));
  if (!m) return 'no AWS4-HMAC-SHA256 authorization';
  const [, accessKeyId, , region, service, signedHeaders, provided] = m;
  const secret = keys[accessKeyId];
  if (!secret) return `unknown access key ${accessKeyId}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dm) return 'no x-amz-date';
  const signingDate = new Date(Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +dm[4], +dm[5], +dm[6]));
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const headers: Record<string, string> = {};
  for (const h of signedHeaders.split(';')) headers[h] = String(req.headers[h] ?? '');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signer = new SignatureV4({
    service,
    region,
    credentials: { accessKeyId, secretAccessKey: secret },
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: service !== 's3',
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname: url.hostname, path: url.pathname, query, headers },
    { signingDate, unsignableHeaders: new Set(), signableHeaders: new Set(signedHeaders.split(';')) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
  return expected === provided ? undefined : 'signature mismatch';
}

function refuse(res: ServerResponse, problem: string): void {
  const code = problem.startsWith('unknown access key') ? 'InvalidAccessKeyId' : 'SignatureDoesNotMatch';
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>`;
  res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
