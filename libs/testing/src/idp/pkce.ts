import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What `/authorize` was asked, checked. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state?: string;
  nonce?: string;
  scope: string;
}

/** A refused authorization request; without `redirectUri` it cannot be sent back to the client. */
export class AuthorizeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly redirectUri?: string,
  ) {
    super(message);
  }
}

const CODE_TTL_MS = 60_000;
/** RFC 7636: a verifier is 43 to 128 of these characters; an S256 challenge is 43 base64url characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The test provider listens on loopback only, and sends codes back to loopback only: a redirect
 * elsewhere would hand a code to whoever named the address.
 */
export function isLoopbackRedirect(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.username === '' &&
    url.password === '' &&
    url.hash === '' &&
    (url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname))
  );
}

function single(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  if (values.length > 1) throw new AuthorizeError('invalid_request', `${name} given more than once`);
  return values[0];
}

export function authorizeRequestOf(form: URLSearchParams): AuthorizeRequest {
  const redirectUri = single(form, 'redirect_uri');
  if (redirectUri === undefined || !isLoopbackRedirect(redirectUri)) {
    throw new AuthorizeError('invalid_request', 'redirect_uri must be an http(s) URL on a loopback address');
  }
  const clientId = single(form, 'client_id');
  if (clientId === undefined || clientId === '' || clientId.length > 256) {
    throw new AuthorizeError('invalid_request', 'client_id is required', redirectUri);
  }
  if (single(form, 'response_type') !== 'code') {
    throw new AuthorizeError('unsupported_response_type', 'response_type must be code', redirectUri);
  }
  const method = single(form, 'code_challenge_method');
  const codeChallenge = single(form, 'code_challenge');
  if (method !== 'S256' || codeChallenge === undefined || !CHALLENGE.test(codeChallenge)) {
    throw new AuthorizeError(
      'invalid_request',
      'PKCE is required: code_challenge (S256 of the verifier, base64url) with code_challenge_method=S256',
      redirectUri,
    );
  }
  const state = single(form, 'state');
  const nonce = single(form, 'nonce');
  return {
    clientId,
    redirectUri,
    codeChallenge,
    scope: single(form, 'scope') ?? 'openid',
    ...(state === undefined ? {} : { state }),
    ...(nonce === undefined ? {} : { nonce }),
  };
}

export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
  scope: string;
  subject: string;
  groups: string[];
  expiresAt: number;
}

export interface TokenError {
  error: string;
  error_description: string;
}

/** Authorization codes: single use, short-lived, bound to client, redirect URI and PKCE challenge. */
export class AuthorizationCodes {
  private readonly grants = new Map<string, CodeGrant>();

  constructor(private readonly clock: () => number) {}

  issue(request: AuthorizeRequest, subject: string, groups: string[]): string {
    const now = this.clock();
    for (const [code, grant] of this.grants) if (grant.expiresAt <= now) this.grants.delete(code);
    const code = randomBytes(32).toString('base64url');
    this.grants.set(code, {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scope: request.scope,
      ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
      subject,
      groups,
      expiresAt: now + CODE_TTL_MS,
    });
    return code;
  }

  /** The grant of a code, once: a code is spent by any attempt to redeem it, right or wrong. */
  redeem(form: URLSearchParams): { grant: CodeGrant } | TokenError {
    if (form.get('grant_type') !== 'authorization_code') {
      return { error: 'unsupported_grant_type', error_description: 'grant_type must be authorization_code' };
    }
    const code = form.get('code') ?? '';
    const grant = this.grants.get(code);
    this.grants.delete(code);
    if (grant === undefined || grant.expiresAt <= this.clock()) {
      return { error: 'invalid_grant', error_description: 'unknown, used or expired code' };
    }
    if (form.get('client_id') !== grant.clientId || form.get('redirect_uri') !== grant.redirectUri) {
      return {
        error: 'invalid_grant',
        error_description: 'client_id or redirect_uri differs from the authorization request',
      };
    }
    const verifier = form.get('code_verifier') ?? '';
    if (!VERIFIER.test(verifier)) {
      return { error: 'invalid_grant', error_description: 'code_verifier must be 43 to 128 unreserved characters' };
    }
    const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
    const expected = Buffer.from(grant.codeChallenge);
    if (computed.length !== expected.length || !timingSafeEqual(computed, expected)) {
      return { error: 'invalid_grant', error_description: 'code_verifier does not match the code_challenge' };
    }
    return { grant };
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The sign-in form: any subject and groups (this is a test provider), known users listed as hints. */
export function loginPage(
  request: AuthorizeRequest,
  subject: string,
  users: Record<string, string[]>,
  problem?: string,
): string {
  const hidden = {
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
    scope: request.scope,
    ...(request.state === undefined ? {} : { state: request.state }),
    ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
  };
  const fields = Object.entries(hidden)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('');
  // One button per known test user: signs in as that user with its groups.
  const known = Object.entries(users)
    .map(
      ([sub, groups]) =>
        `<li><form method="post" action="/authorize">${fields}` +
        `<input type="hidden" name="subject" value="${escapeHtml(sub)}">` +
        `<input type="hidden" name="groups" value="${escapeHtml(groups.join(','))}">` +
        `<button type="submit">Sign in as ${escapeHtml(sub)}</button> (${escapeHtml(groups.join(', ') || 'no groups')})</form></li>`,
    )
    .join('');
  return [
    '<h1>Sign in to the test identity provider</h1>',
    problem === undefined ? '' : `<p role="alert">${escapeHtml(problem)}</p>`,
    `<p>Signing in to <code>${escapeHtml(request.clientId)}</code>. This provider is for tests: it believes whoever you say you are.</p>`,
    '<form method="post" action="/authorize">',
    fields,
    `<p><label for="subject">Subject</label> <input id="subject" name="subject" required maxlength="256" value="${escapeHtml(subject)}" autofocus></p>`,
    `<p><label for="groups">Groups (comma-separated)</label> <input id="groups" name="groups" value="${escapeHtml((users[subject] ?? []).join(','))}"></p>`,
    '<p><button type="submit">Sign in</button></p>',
    '</form>',
    known === '' ? '' : `<h2>Known test users</h2><ul>${known}</ul>`,
  ].join('\n');
}
