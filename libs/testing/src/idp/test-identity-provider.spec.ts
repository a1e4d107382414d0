import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { main } from './idp-main';
import { TestIdentityProvider } from './test-identity-provider';

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('TestIdentityProvider', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'airlock-idp-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('serves discovery and a JWKS that verifies its tokens, and counts JWKS fetches', async () => {
    const idp = await TestIdentityProvider.start({ ecKey: true });
    try {
      expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const discovery = await getJson(`${idp.issuer}/.well-known/openid-configuration`);
      expect(discovery.body).toMatchObject({ issuer: idp.issuer, jwks_uri: idp.jwksUri });

      const jwks = await getJson(idp.jwksUri);
      expect(idp.requestCount).toBe(1);
      expect(idp.totalRequestCount).toBe(2);
      const keys = jwks.body.keys as Array<Record<string, unknown>>;
      expect(keys.map((key) => key.alg)).toEqual(['RS256', 'ES256']);
      expect(keys.every((key) => key.d === undefined)).toBe(true);

      const keySet = createLocalJWKSet(jwks.body as never);
      for (const alg of ['RS256', 'ES256'] as const) {
        const token = await idp.sign({ sub: 'agent-1', groups: ['agents'] }, { alg });
        const { payload } = await jwtVerify(token, keySet, { issuer: idp.issuer, audience: 'airlock' });
        expect(payload).toMatchObject({ sub: 'agent-1', groups: ['agents'] });
      }
    } finally {
      await idp.stop();
    }
  });

  it('refuses to listen beyond loopback', async () => {
    await expect(TestIdentityProvider.start({ host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });

  it('answers JWKS with the configured failure status', async () => {
    const idp = await TestIdentityProvider.start();
    try {
      idp.failJwks(503);
      expect((await getJson(idp.jwksUri)).status).toBe(503);
    } finally {
      await idp.stop();
    }
  });

  it('persists its keys with mode 0600 and reuses them after a restart', async () => {
    const keyFile = join(directory, 'nested', 'key.json');
    const first = await TestIdentityProvider.start({ keyFile });
    const token = await first.sign({ sub: 'agent-1' });
    const firstKeys = first.jwks();
    await first.stop();

    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const second = await TestIdentityProvider.start({ keyFile });
    try {
      expect(second.jwks()).toEqual(firstKeys);
      await expect(jwtVerify(token, createLocalJWKSet(second.jwks()))).resolves.toBeDefined();
    } finally {
      await second.stop();
    }
  });

  it('makes each bad variant as described', async () => {
    const idp = await TestIdentityProvider.start();
    try {
      const now = Math.floor(Date.now() / 1000);
      expect(decodeJwt(await idp.expired()).exp).toBeLessThan(now);
      expect(decodeJwt(await idp.notYetValid()).nbf).toBeGreaterThan(now);
      expect(decodeJwt(await idp.wrongIssuer()).iss).not.toBe(idp.issuer);
      expect(decodeJwt(await idp.wrongAudience()).aud).not.toBe('airlock');
      expect(decodeProtectedHeader(await idp.badSignature()).kid).toBe(idp.kid);
      expect(decodeProtectedHeader(idp.algNone()).alg).toBe('none');
      expect(idp.algNone().endsWith('.')).toBe(true);
      expect(decodeProtectedHeader(idp.hs256WithPublicKey()).alg).toBe('HS256');
      expect(decodeProtectedHeader(await idp.unknownKid()).kid).not.toBe(idp.kid);
      expect(() => decodeJwt(idp.malformed())).toThrow();
      await expect(idp.sign({ sub: 'x' }, { alg: 'ES256' })).rejects.toThrow(/no ES256 key/);
    } finally {
      await idp.stop();
    }
  });
});

describe('idp-main token', () => {
  let directory: string;
  let output: string;
  let write: jest.SpyInstance;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'airlock-idp-main-'));
    output = '';
    write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output += chunk.toString();
      return true;
    });
  });

  afterEach(async () => {
    write.mockRestore();
    await rm(directory, { recursive: true, force: true });
  });

  it('prints a token that the server started on the same key file accepts', async () => {
    const keyFile = join(directory, 'key.json');
    const idp = await TestIdentityProvider.start({ keyFile });
    try {
      const code = await main([
        'token',
        '--key-file',
        keyFile,
        '--issuer',
        idp.issuer,
        '--sub',
        'agent-demo',
        '--groups',
        'agents,ops',
        '--aud',
        'airlock',
        '--ttl',
        '3600',
      ]);

      expect(code).toBe(0);
      const { payload } = await jwtVerify(output.trim(), createLocalJWKSet(idp.jwks()), {
        issuer: idp.issuer,
        audience: 'airlock',
      });
      expect(payload).toMatchObject({ sub: 'agent-demo', groups: ['agents', 'ops'] });
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    } finally {
      await idp.stop();
    }
  });

  it('requires a key file', async () => {
    await expect(main(['token', '--issuer', 'http://127.0.0.1:1', '--sub', 'x'])).rejects.toThrow(/--key-file/);
  });
});
