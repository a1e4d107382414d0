import type { ConsoleConfig } from './config';
import { BASE } from './router';
import type { Session } from './roles';

const SESSION_KEY = 'airlock.console.session';
const PENDING_KEY = 'airlock.console.pending-sign-in';
export const CALLBACK_PATH = '/callback';

interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

function randomText(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    throw new Error(`the identity provider ${issuer} did not answer`);
  }
  if (!response.ok) throw new Error(`the identity provider's discovery document answered ${response.status}`);
  const doc = (await response.json()) as Discovery;
  if (doc.issuer !== issuer) throw new Error(`the discovery document names issuer ${doc.issuer}, not ${issuer}`);
  if (!doc.authorization_endpoint || !doc.token_endpoint) {
    throw new Error('the identity provider does not offer the authorization code flow');
  }
  return doc;
}

function redirectUri(): string {
  return `${window.location.origin}${BASE}${CALLBACK_PATH}`;
}

/** Leaves for the identity provider (authorization code with PKCE, S256). */
export async function signIn(config: ConsoleConfig, returnTo: string, loginHint?: string): Promise<void> {
  const doc = await discover(config.issuer);
  const pending: PendingSignIn = { state: randomText(), nonce: randomText(), verifier: randomText(48), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(doc.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('scope', config.scope);
  url.searchParams.set('state', pending.state);
  url.searchParams.set('nonce', pending.nonce);
  url.searchParams.set('code_challenge', await s256(pending.verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  if (loginHint) url.searchParams.set('login_hint', loginHint);
  window.location.assign(url.toString());
}

function claimsOf(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1];
  if (!part) throw new Error('the identity provider answered a token that is not a JWT');
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

/**
 * Finishes a sign-in on the callback page: checks state, trades the code and the verifier for
 * tokens, checks the ID token's issuer, audience and nonce, and keeps the access token.
 * The services verify every token's signature; the console reads claims only to show them.
 */
export async function completeSignIn(config: ConsoleConfig, params: URLSearchParams): Promise<{ returnTo: string }> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const error = params.get('error');
  if (error) throw new Error(`the identity provider refused the sign-in: ${params.get('error_description') ?? error}`);
  if (!raw) throw new Error('no sign-in was started in this tab; sign in again');
  const pending = JSON.parse(raw) as PendingSignIn;
  if (params.get('state') !== pending.state) throw new Error('the sign-in answer does not match the request (state)');
  const code = params.get('code');
  if (!code) throw new Error('the identity provider answered without a code');
  const doc = await discover(config.issuer);
  let response: Response;
  try {
    response = await fetch(doc.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: pending.verifier,
        client_id: config.clientId,
        redirect_uri: redirectUri(),
      }).toString(),
    });
  } catch {
    throw new Error('the identity provider did not answer the token request');
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, string>;
  if (!response.ok) {
    throw new Error(
      `the identity provider refused the code: ${body.error_description ?? body.error ?? response.status}`,
    );
  }
  const idClaims = claimsOf(body.id_token ?? '');
  const audience = Array.isArray(idClaims.aud) ? idClaims.aud : [idClaims.aud];
  if (idClaims.iss !== config.issuer || !audience.includes(config.clientId) || idClaims.nonce !== pending.nonce) {
    throw new Error('the ID token is not for this console (issuer, audience or nonce differ)');
  }
  const claims = claimsOf(body.access_token ?? '');
  const session: Session = {
    accessToken: body.access_token,
    issuer: String(claims.iss),
    subject: String(claims.sub),
    groups: Array.isArray(claims.groups) ? claims.groups.map(String) : [],
    expiresAt: Number(claims.exp),
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  // Only a path of this console: never another origin ("//host", "/\\host").
  const local = /^\/(?![/\\])/.test(pending.returnTo);
  return { returnTo: local ? pending.returnTo : '/' };
}

export function currentSession(now = Date.now()): Session | null {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (!raw) return null;
  const session = JSON.parse(raw) as Session;
  return session.expiresAt * 1000 > now ? session : null;
}

export function signOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
}
