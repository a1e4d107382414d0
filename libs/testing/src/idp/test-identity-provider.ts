import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadOrCreateKeys, type TestKeySet } from './idp-keys';
import { DEFAULT_TEST_AUDIENCE, TestTokenSigner } from './test-token-signer';

export interface TestIdentityProviderOptions {
  /** 0 (default) picks an ephemeral port. */
  port?: number;
  /** Loopback only; defaults to 127.0.0.1. */
  host?: string;
  /** Persist the private keys here (JWK JSON, mode 0600) so tokens survive restarts. */
  keyFile?: string;
  /** Also publish an EC P-256 key and allow `sign(..., { alg: 'ES256' })`. */
  ecKey?: boolean;
  /** Default `aud` of signed tokens; `airlock` unless set. */
  audience?: string | string[];
  /** Epoch ms for `iat`/`exp`/`nbf`; defaults to Date.now. */
  clock?: () => number;
}

export const JWKS_PATH = '/jwks.json';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/**
 * An OIDC issuer for tests and local runs: serves discovery and JWKS over loopback HTTP and
 * signs tokens with the keys it publishes.
 */
export class TestIdentityProvider extends TestTokenSigner {
  private jwksFetches = 0;
  private requests = 0;
  private jwksFailureStatus: number | null = null;
  private stopped: Promise<void> | undefined;

  private constructor(
    issuer: string,
    keys: TestKeySet,
    audience: string | string[],
    clock: () => number,
    private readonly server: Server,
  ) {
    super(issuer, keys, audience, clock);
  }

  static async start(options: TestIdentityProviderOptions = {}): Promise<TestIdentityProvider> {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopback(host)) {
      throw new Error(`TestIdentityProvider listens on loopback only, not on ${host}`);
    }
    const keys = await loadOrCreateKeys({ keyFile: options.keyFile, ecKey: options.ecKey });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const provider = new TestIdentityProvider(
      `http://${urlHost}:${port}`,
      keys,
      options.audience ?? DEFAULT_TEST_AUDIENCE,
      options.clock ?? Date.now,
      server,
    );
    server.on('request', (request: IncomingMessage, response: ServerResponse) => provider.handle(request, response));
    return provider;
  }

  get jwksUri(): string {
    return `${this.issuer}${JWKS_PATH}`;
  }

  get discoveryUri(): string {
    return `${this.issuer}${DISCOVERY_PATH}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** JWKS downloads served (or refused by `failJwks`). */
  get requestCount(): number {
    return this.jwksFetches;
  }

  /** Every HTTP request received, whatever the path. */
  get totalRequestCount(): number {
    return this.requests;
  }

  /** Answer JWKS requests with this HTTP status (e.g. 503) until called with null. */
  failJwks(status: number | null): void {
    this.jwksFailureStatus = status;
  }

  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      // jose's JWKS fetches use keep-alive; close them instead of waiting for their timeout.
      this.server.closeAllConnections();
    });
    return this.stopped;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    this.requests += 1;
    const path = new URL(request.url ?? '/', this.issuer).pathname;
    if (request.method !== 'GET') {
      return reply(response, 405, { error: 'method not allowed' });
    }
    if (path === JWKS_PATH) {
      this.jwksFetches += 1;
      if (this.jwksFailureStatus !== null) {
        return reply(response, this.jwksFailureStatus, { error: 'jwks unavailable' });
      }
      return reply(response, 200, this.jwks());
    }
    if (path === DISCOVERY_PATH) {
      return reply(response, 200, {
        issuer: this.issuer,
        jwks_uri: this.jwksUri,
        id_token_signing_alg_values_supported: this.keys.ec === undefined ? ['RS256'] : ['RS256', 'ES256'],
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
      });
    }
    return reply(response, 404, { error: 'not found' });
  }
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
