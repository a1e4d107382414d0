import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadOrCreateKeys, type TestKeySet } from './idp-keys';
import {
  AuthorizationCodes,
  AuthorizeError,
  authorizeRequestOf,
  escapeHtml,
  loginPage,
  type AuthorizeRequest,
} from './pkce';
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
  /**
   * Test users of the sign-in page (`/authorize`): subject → groups. A `login_hint` naming one
   * of them signs in at once; anyone else gets the form, where subject and groups are typed in.
   */
  users?: Record<string, string[]>;
  /** Lifetime of the access and ID tokens `/token` issues; 3600 s unless set. */
  tokenTtlSeconds?: number;
}

export const JWKS_PATH = '/jwks.json';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const AUTHORIZE_PATH = '/authorize';
export const TOKEN_PATH = '/token';

/** A sign-in form carries a few short fields; anything longer is refused unread. */
const MAX_FORM_BYTES = 16 * 1024;

/**
 * An OIDC issuer for tests and local runs: serves discovery and JWKS over loopback HTTP and
 * signs tokens with the keys it publishes.
 */
export class TestIdentityProvider extends TestTokenSigner {
  private jwksFetches = 0;
  private requests = 0;
  private jwksFailureStatus: number | null = null;
  private stopped: Promise<void> | undefined;
  private readonly codes: AuthorizationCodes;

  private constructor(
    issuer: string,
    keys: TestKeySet,
    audience: string | string[],
    clock: () => number,
    private readonly server: Server,
    private readonly users: Record<string, string[]>,
    private readonly tokenTtlSeconds: number,
  ) {
    super(issuer, keys, audience, clock);
    this.codes = new AuthorizationCodes(clock);
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
      options.users ?? {},
      options.tokenTtlSeconds ?? 3600,
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
    const url = new URL(request.url ?? '/', this.issuer);
    const path = url.pathname;
    if (path === AUTHORIZE_PATH || path === TOKEN_PATH) {
      this.signIn(request, response, url).catch(() => reply(response, 500, { error: 'server_error' }));
      return;
    }
    if (request.method === 'OPTIONS') {
      return preflight(response);
    }
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
        authorization_endpoint: `${this.issuer}${AUTHORIZE_PATH}`,
        token_endpoint: `${this.issuer}${TOKEN_PATH}`,
        response_types_supported: ['code', 'token'],
        grant_types_supported: ['authorization_code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        scopes_supported: ['openid', 'profile', 'groups'],
        claims_supported: ['sub', 'groups', 'iss', 'aud', 'exp', 'iat', 'nonce'],
        subject_types_supported: ['public'],
      });
    }
    return reply(response, 404, { error: 'not found' });
  }

  /**
   * The authorization code flow with PKCE (S256 only) for browser clients such as the console:
   * `GET /authorize` signs a known test user in at once (`login_hint`) or shows a form where
   * subject and groups are typed in; `POST /authorize` takes that form; `POST /token` trades a
   * code and its verifier for an access token (audience as configured, groups) and an ID token.
   */
  private async signIn(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (request.method === 'OPTIONS') return preflight(response);
    const isToken = url.pathname === TOKEN_PATH;
    if (isToken ? request.method !== 'POST' : request.method !== 'GET' && request.method !== 'POST') {
      return reply(response, 405, { error: 'method not allowed' });
    }
    let form: URLSearchParams;
    if (request.method === 'POST') {
      const body = await readForm(request);
      if (body === undefined)
        return reply(response, 400, {
          error: 'invalid_request',
          error_description: 'form too large or not url-encoded',
        });
      form = body;
    } else {
      form = url.searchParams;
    }
    if (isToken) return this.token(form, response);
    let authorize: AuthorizeRequest;
    try {
      authorize = authorizeRequestOf(form);
    } catch (err) {
      if (!(err instanceof AuthorizeError)) throw err;
      // Without a usable redirect_uri the error cannot go back to the client: shown here instead.
      if (err.redirectUri === undefined) return page(response, 400, `<p role="alert">${escapeHtml(err.message)}</p>`);
      return redirect(response, errorRedirect(err.redirectUri, err.code, err.message, form.get('state')));
    }
    const subject = request.method === 'POST' ? (form.get('subject') ?? '').trim() : (form.get('login_hint') ?? '');
    const known = this.users[subject];
    if (request.method === 'GET' && known === undefined) {
      return page(response, 200, loginPage(authorize, subject, this.users), authorize.redirectUri);
    }
    if (subject === '' || subject.length > 256) {
      return page(
        response,
        400,
        loginPage(authorize, subject, this.users, 'Enter a subject (1 to 256 characters).'),
        authorize.redirectUri,
      );
    }
    const groups =
      request.method === 'POST'
        ? (form.get('groups') ?? '')
            .split(',')
            .map((g) => g.trim())
            .filter((g) => g !== '')
        : known;
    const code = this.codes.issue(authorize, subject, groups);
    const target = new URL(authorize.redirectUri);
    target.searchParams.set('code', code);
    if (authorize.state !== undefined) target.searchParams.set('state', authorize.state);
    return redirect(response, target.toString());
  }

  private async token(form: URLSearchParams, response: ServerResponse): Promise<void> {
    const redeemed = this.codes.redeem(form);
    if ('error' in redeemed) return reply(response, 400, redeemed, { 'access-control-allow-origin': '*' });
    const { grant } = redeemed;
    const base = { sub: grant.subject, groups: grant.groups, expiresInSeconds: this.tokenTtlSeconds };
    const accessToken = await this.sign(base);
    const idToken = await this.sign({
      ...base,
      aud: grant.clientId,
      ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
    });
    return reply(
      response,
      200,
      {
        access_token: accessToken,
        id_token: idToken,
        token_type: 'Bearer',
        expires_in: this.tokenTtlSeconds,
        scope: grant.scope,
      },
      { 'access-control-allow-origin': '*', 'cache-control': 'no-store' },
    );
  }
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    // Discovery, keys and the token endpoint are public: a browser client on any origin may read them.
    'access-control-allow-origin': '*',
    ...headers,
  });
  response.end(text);
}

function preflight(response: ServerResponse): void {
  response.writeHead(204, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': 'content-type',
    'access-control-max-age': '600',
  });
  response.end();
}

/** A page of the provider; `redirectUri`: where its form's answer redirects (CSP form-action covers redirects too). */
function page(response: ServerResponse, status: number, body: string, redirectUri?: string): void {
  const formAction = redirectUri === undefined ? "'self'" : `'self' ${new URL(redirectUri).origin}`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider: sign in</title></head><body><main>${body}</main></body></html>`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; form-action ${formAction}; frame-ancestors 'none'`,
  });
  response.end(html);
}

function redirect(response: ServerResponse, location: string): void {
  response.writeHead(303, { location, 'cache-control': 'no-store' });
  response.end();
}

function errorRedirect(redirectUri: string, code: string, description: string, state: string | null): string {
  const target = new URL(redirectUri);
  target.searchParams.set('error', code);
  target.searchParams.set('error_description', description);
  if (state !== null) target.searchParams.set('state', state);
  return target.toString();
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = String(request.headers['content-type'] ?? '')
    .split(';')[0]
    .trim();
  if (type !== 'application/x-www-form-urlencoded') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
