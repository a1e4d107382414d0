import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { TestIdentityProvider } from './test-identity-provider';

const CONSOLE = 'http://127.0.0.1:8090/callback';

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(idp: TestIdentityProvider, params: Record<string, string>): string {
  const url = new URL('/authorize', idp.issuer);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

function codeParams(challenge: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    response_type: 'code',
    client_id: 'airlock-console',
    redirect_uri: CONSOLE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-1',
    nonce: 'n-1',
    scope: 'openid groups',
    ...extra,
  };
}

async function redeem(idp: TestIdentityProvider, form: Record<string, string>): Promise<Response> {
  return fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

describe('TestIdentityProvider: authorization code with PKCE', () => {
  let idp: TestIdentityProvider;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start({ users: { 'admin-demo': ['airlock-admins', 'approvers'] } });
  });

  afterAll(async () => {
    await idp.stop();
  });

  it('announces the endpoints and S256 in discovery', async () => {
    const body = (await (await fetch(idp.discoveryUri)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      authorization_endpoint: `${idp.issuer}/authorize`,
      token_endpoint: `${idp.issuer}/token`,
      code_challenge_methods_supported: ['S256'],
    });
    expect(body.response_types_supported).toContain('code');
  });

  it('signs a known user in from login_hint and trades the code and verifier for tokens once', async () => {
    const { verifier, challenge } = pkcePair();
    const answer = await fetch(authorizeUrl(idp, codeParams(challenge, { login_hint: 'admin-demo' })), {
      redirect: 'manual',
    });
    expect(answer.status).toBe(303);
    const back = new URL(answer.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(CONSOLE);
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code')!;
    const form = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: 'airlock-console',
      redirect_uri: CONSOLE,
    };
    const tokens = await redeem(idp, form);
    expect(tokens.status).toBe(200);
    expect(tokens.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await tokens.json()) as { access_token: string; id_token: string; token_type: string };
    expect(body.token_type).toBe('Bearer');
    const keys = createLocalJWKSet(idp.jwks());
    const access = await jwtVerify(body.access_token, keys, { issuer: idp.issuer, audience: 'airlock' });
    expect(access.payload).toMatchObject({ sub: 'admin-demo', groups: ['airlock-admins', 'approvers'] });
    const id = await jwtVerify(body.id_token, keys, { issuer: idp.issuer, audience: 'airlock-console' });
    expect(id.payload.nonce).toBe('n-1');
    // A code is used once.
    expect((await redeem(idp, form)).status).toBe(400);
  });

  it('refuses a verifier that does not match the challenge, and spends the code', async () => {
    const { verifier, challenge } = pkcePair();
    const answer = await fetch(authorizeUrl(idp, codeParams(challenge, { login_hint: 'admin-demo' })), {
      redirect: 'manual',
    });
    const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
    const base = { grant_type: 'authorization_code', code, client_id: 'airlock-console', redirect_uri: CONSOLE };
    const wrong = await redeem(idp, { ...base, code_verifier: pkcePair().verifier });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await redeem(idp, { ...base, code_verifier: verifier })).status).toBe(400);
  });

  it('refuses a code redeemed for another redirect URI', async () => {
    const { verifier, challenge } = pkcePair();
    const answer = await fetch(authorizeUrl(idp, codeParams(challenge, { login_hint: 'admin-demo' })), {
      redirect: 'manual',
    });
    const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
    const r = await redeem(idp, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: 'airlock-console',
      redirect_uri: 'http://127.0.0.1:9999/callback',
    });
    expect(r.status).toBe(400);
  });

  it('requires PKCE with S256', async () => {
    const { challenge } = pkcePair();
    for (const params of [
      codeParams(challenge, { code_challenge_method: 'plain' }),
      { ...codeParams(challenge), code_challenge: '' },
    ]) {
      const answer = await fetch(authorizeUrl(idp, { ...params, login_hint: 'admin-demo' }), { redirect: 'manual' });
      expect(answer.status).toBe(303);
      const back = new URL(answer.headers.get('location')!);
      expect(back.searchParams.get('error')).toBe('invalid_request');
      expect(back.searchParams.get('code')).toBeNull();
    }
  });

  it('never redirects off loopback', async () => {
    const { challenge } = pkcePair();
    const answer = await fetch(
      authorizeUrl(idp, codeParams(challenge, { redirect_uri: 'https://evil.example/cb', login_hint: 'admin-demo' })),
      { redirect: 'manual' },
    );
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
  });

  it('shows a form for anyone else, and signs in the subject and groups typed into it', async () => {
    const { verifier, challenge } = pkcePair();
    const form = await fetch(authorizeUrl(idp, codeParams(challenge, { login_hint: '<someone>' })));
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('<label for="subject">');
    expect(html).toContain('&#60;someone&#62;');
    expect(html).not.toContain('<someone>');
    expect(html).toContain('Sign in as admin-demo</button> (airlock-admins, approvers)');

    const posted = await fetch(`${idp.issuer}/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...codeParams(challenge), subject: 'carol', groups: 'dba, sre' }).toString(),
    });
    expect(posted.status).toBe(303);
    const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;
    const tokens = await redeem(idp, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: 'airlock-console',
      redirect_uri: CONSOLE,
    });
    const { access_token } = (await tokens.json()) as { access_token: string };
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(idp.jwks()), { audience: 'airlock' });
    expect(payload).toMatchObject({ sub: 'carol', groups: ['dba', 'sre'] });
  });
});
