import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestIdentityProvider } from '@airlock/testing';
import type { IdentityConfig } from './identity-config';
import { TOKEN_REJECTION_MESSAGES, TokenRejectedError, type TokenRejectionCode } from './token-rejected.error';
import { MAX_TOKEN_LENGTH, TokenVerifier, type Clock } from './token-verifier';

async function expectRejection(result: Promise<unknown>, code: TokenRejectionCode): Promise<TokenRejectedError> {
  let caught: unknown;
  try {
    await result;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TokenRejectedError);
  const rejection = caught as TokenRejectedError;
  expect(rejection.code).toBe(code);
  expect(rejection.message).toBe(TOKEN_REJECTION_MESSAGES[code]);
  return rejection;
}

describe('TokenVerifier', () => {
  let idpA: TestIdentityProvider;
  let idpB: TestIdentityProvider;
  let untrusted: TestIdentityProvider;

  beforeAll(async () => {
    [idpA, idpB, untrusted] = await Promise.all([
      TestIdentityProvider.start({ ecKey: true }),
      TestIdentityProvider.start(),
      TestIdentityProvider.start(),
    ]);
  });

  afterAll(async () => {
    await Promise.all([idpA.stop(), idpB.stop(), untrusted.stop()]);
  });

  function config(overrides: Partial<IdentityConfig> = {}): IdentityConfig {
    return {
      issuers: [
        { issuer: idpA.issuer, jwksUri: idpA.jwksUri },
        { issuer: idpB.issuer, jwksUri: idpB.jwksUri },
      ],
      audience: ['airlock'],
      clockSkewSeconds: 60,
      ...overrides,
    };
  }

  describe('accepts', () => {
    let verifier: TokenVerifier;
    beforeAll(() => {
      verifier = new TokenVerifier(config());
    });

    it('a good token and maps it to a principal with groups', async () => {
      const token = await idpA.sign({ sub: 'agent-1', groups: ['agents', 'ops'] });

      await expect(verifier.verify(token)).resolves.toEqual({
        issuer: idpA.issuer,
        subject: 'agent-1',
        groups: ['agents', 'ops'],
      });
    });

    it('tokens of two trusted issuers, each checked against its own JWKS', async () => {
      const fromA = await idpA.sign({ sub: 'agent-a' });
      const fromB = await idpB.sign({ sub: 'agent-b', groups: ['b-team'] });

      await expect(verifier.verify(fromA)).resolves.toEqual({ issuer: idpA.issuer, subject: 'agent-a', groups: [] });
      await expect(verifier.verify(fromB)).resolves.toEqual({
        issuer: idpB.issuer,
        subject: 'agent-b',
        groups: ['b-team'],
      });
      expect(idpA.requestCount).toBeGreaterThanOrEqual(1);
      expect(idpB.requestCount).toBeGreaterThanOrEqual(1);
    });

    it('a token that is signed by one trusted issuer but claims the other is refused', async () => {
      const forged = await idpB.sign({ sub: 'agent-b', iss: idpA.issuer });

      await expectRejection(verifier.verify(forged), 'unknown_key');
    });

    it('an ES256 token', async () => {
      const token = await idpA.sign({ sub: 'agent-ec' }, { alg: 'ES256' });

      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'agent-ec' });
    });

    it('a single group given as a string', async () => {
      const token = await idpA.sign({ sub: 'agent-1', groups: 'agents' as unknown as string[] });

      await expect(verifier.verify(token)).resolves.toMatchObject({ groups: ['agents'] });
    });

    it('an audience list that contains one accepted audience', async () => {
      const token = await idpA.sign({ sub: 'agent-1', aud: ['other', 'airlock'] });

      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'agent-1' });
    });

    it('nbf in the future but within the clock skew', async () => {
      const token = await idpA.sign({ sub: 'agent-1', notBeforeSeconds: 30 });

      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'agent-1' });
    });

    it('exp just past but within the clock skew', async () => {
      const token = await idpA.sign({ sub: 'agent-1', expiresInSeconds: -30 });

      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'agent-1' });
    });

    it('custom subject and groups claims per issuer', async () => {
      const custom = new TokenVerifier(
        config({
          issuers: [{ issuer: idpA.issuer, jwksUri: idpA.jwksUri, subjectClaim: 'client_id', groupsClaim: 'roles' }],
        }),
      );
      const token = await idpA.sign({ sub: 'opaque-123', client_id: 'copilot-ci', roles: ['deployers'] });

      await expect(custom.verify(token)).resolves.toEqual({
        issuer: idpA.issuer,
        subject: 'copilot-ci',
        groups: ['deployers'],
      });
    });

    it('a per-issuer audience instead of the default one', async () => {
      const custom = new TokenVerifier(
        config({
          issuers: [
            { issuer: idpA.issuer, jwksUri: idpA.jwksUri },
            { issuer: idpB.issuer, jwksUri: idpB.jwksUri, audience: ['airlock-b'] },
          ],
        }),
      );

      await expect(custom.verify(await idpB.sign({ sub: 'b', aud: 'airlock-b' }))).resolves.toMatchObject({
        subject: 'b',
      });
      await expectRejection(custom.verify(await idpB.sign({ sub: 'b', aud: 'airlock' })), 'audience');
      await expect(custom.verify(await idpA.sign({ sub: 'a', aud: 'airlock' }))).resolves.toMatchObject({
        subject: 'a',
      });
    });
  });

  describe('rejects', () => {
    let verifier: TokenVerifier;
    beforeAll(() => {
      verifier = new TokenVerifier(config());
    });

    it.each([[''], ['   '], [undefined], [null]])('no token (%p) as missing', async (token) => {
      await expectRejection(verifier.verify(token), 'missing');
    });

    it.each([['abc'], ['a.b'], ['a.b.c'], ['a.b.c.d.e'], ['eyJhbGciOiJSUzI1NiJ9..sig']])(
      '%p as malformed',
      async (token) => {
        await expectRejection(verifier.verify(token), 'malformed');
      },
    );

    it('a payload that is not JSON as malformed', async () => {
      await expectRejection(verifier.verify(idpA.malformed()), 'malformed');
    });

    it('an oversized token as malformed', async () => {
      await expectRejection(verifier.verify(`${'a'.repeat(MAX_TOKEN_LENGTH)}.b.c`), 'malformed');
    });

    it('an expired token', async () => {
      await expectRejection(verifier.verify(await idpA.expired()), 'expired');
    });

    it('a token expired by more than the clock skew', async () => {
      await expectRejection(verifier.verify(await idpA.sign({ sub: 'agent-1', expiresInSeconds: -90 })), 'expired');
    });

    it('a token not valid yet', async () => {
      await expectRejection(verifier.verify(await idpA.notYetValid()), 'not_yet_valid');
    });

    it('nbf beyond the clock skew', async () => {
      await expectRejection(
        verifier.verify(await idpA.sign({ sub: 'agent-1', notBeforeSeconds: 90 })),
        'not_yet_valid',
      );
    });

    it('a token naming an issuer that is not on the allowlist', async () => {
      await expectRejection(verifier.verify(await idpA.wrongIssuer()), 'untrusted_issuer');
    });

    it('a token of a running but untrusted issuer, without contacting it', async () => {
      const before = untrusted.totalRequestCount;

      await expectRejection(verifier.verify(await untrusted.sign({ sub: 'agent-1' })), 'untrusted_issuer');
      expect(untrusted.totalRequestCount).toBe(before);
    });

    it('a token without iss', async () => {
      await expectRejection(
        verifier.verify(await idpA.sign({ sub: 'agent-1' }, { omit: ['iss'] })),
        'untrusted_issuer',
      );
    });

    it('a token for another audience', async () => {
      await expectRejection(verifier.verify(await idpA.wrongAudience()), 'audience');
    });

    it('a token without aud', async () => {
      await expectRejection(verifier.verify(await idpA.sign({ sub: 'agent-1' }, { omit: ['aud'] })), 'audience');
    });

    it('a token signed by another key under the same kid', async () => {
      await expectRejection(verifier.verify(await idpA.badSignature()), 'signature');
    });

    it('a token whose payload was altered after signing', async () => {
      const [header, , signature] = (await idpA.sign({ sub: 'agent-1', groups: ['agents'] })).split('.');
      const [, payload] = (await idpA.sign({ sub: 'agent-1', groups: ['admins'] })).split('.');

      await expectRejection(verifier.verify(`${header}.${payload}.${signature}`), 'signature');
    });

    it('alg none', async () => {
      await expectRejection(verifier.verify(idpA.algNone({ groups: ['admins'] })), 'algorithm');
    });

    it.each([['pem' as const], ['jwk' as const]])('HS256 signed with the issuer public key (%s)', async (secret) => {
      await expectRejection(verifier.verify(idpA.hs256WithPublicKey({}, secret)), 'algorithm');
    });

    it('an algorithm that is asymmetric but not configured', async () => {
      const rsaOnly = new TokenVerifier(config({ algorithms: ['RS256'] }));

      await expectRejection(rsaOnly.verify(await idpA.sign({ sub: 'agent-1' }, { alg: 'ES256' })), 'algorithm');
    });

    it('an unknown kid', async () => {
      await expectRejection(verifier.verify(await idpA.unknownKid()), 'unknown_key');
    });

    it('a token without exp', async () => {
      await expectRejection(verifier.verify(await idpA.sign({ sub: 'agent-1' }, { omit: ['exp'] })), 'claims');
    });

    it('a token without sub', async () => {
      await expectRejection(verifier.verify(await idpA.sign({ sub: 'agent-1' }, { omit: ['sub'] })), 'claims');
    });

    it('a sub that is not a string', async () => {
      await expectRejection(verifier.verify(await idpA.sign({ sub: 42 as unknown as string })), 'claims');
    });

    it.each([[[1, 'agents']], [{ admin: true }], [7], [null]])('groups %p', async (groups) => {
      const token = await idpA.sign({ sub: 'agent-1', groups: groups as unknown as string[] });

      await expectRejection(verifier.verify(token), 'claims');
    });

    it('keeps the token out of the error message', async () => {
      const token = await idpA.expired({ sub: 'secret-subject' });

      const rejection = await expectRejection(verifier.verify(token), 'expired');
      expect(rejection.message).not.toContain(token);
      expect(rejection.message).not.toContain('secret-subject');
      expect(rejection.cause).toBeDefined();
    });
  });

  describe('key URLs in the token header', () => {
    let attacker: TestIdentityProvider;
    beforeAll(async () => {
      attacker = await TestIdentityProvider.start();
    });
    afterAll(async () => {
      await attacker.stop();
    });

    it('never fetches jku, x5u or an embedded jwk for a token signed by the attacker', async () => {
      const verifier = new TokenVerifier(config());
      const token = await attacker.sign(
        { sub: 'agent-1', iss: idpA.issuer, groups: ['admins'] },
        { header: { jku: attacker.jwksUri, x5u: attacker.jwksUri, jwk: attacker.jwks().keys[0] } },
      );

      await expectRejection(verifier.verify(token), 'unknown_key');
      expect(attacker.totalRequestCount).toBe(0);
    });

    it('ignores jku on a genuine token', async () => {
      const verifier = new TokenVerifier(config());
      const token = await idpA.sign({ sub: 'agent-1' }, { header: { jku: attacker.jwksUri } });

      await expect(verifier.verify(token)).resolves.toMatchObject({ issuer: idpA.issuer });
      expect(attacker.totalRequestCount).toBe(0);
    });
  });

  describe('a token without kid while the issuer publishes several keys', () => {
    // A JWKS during a key rotation: two RSA keys without kid, so jose cannot pick one by itself.
    let server: Server;
    let jwksUri: string;
    const issuer = 'https://rotating.example';
    beforeAll(async () => {
      const keys = [...idpA.jwks().keys, ...idpB.jwks().keys]
        .filter((key) => key.kty === 'RSA')
        .map(({ kid: _kid, ...key }) => key);
      server = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('is accepted when one of the candidate keys verifies it', async () => {
      const verifier = new TokenVerifier(config({ issuers: [{ issuer, jwksUri }] }));

      await expect(verifier.verify(await idpB.sign({ sub: 'agent-1', iss: issuer }, { kid: null }))).resolves.toEqual({
        issuer,
        subject: 'agent-1',
        groups: [],
      });
    });

    it('is refused when none does', async () => {
      const verifier = new TokenVerifier(config({ issuers: [{ issuer, jwksUri }] }));

      await expectRejection(
        verifier.verify(await untrusted.sign({ sub: 'agent-1', iss: issuer }, { kid: null })),
        'signature',
      );
    });

    it('still checks the claims after finding the key', async () => {
      const verifier = new TokenVerifier(config({ issuers: [{ issuer, jwksUri }] }));

      await expectRejection(verifier.verify(await idpA.expired({ iss: issuer }, { kid: null })), 'expired');
    });
  });

  describe('when the JWKS cannot be fetched', () => {
    it('refuses with jwks_unavailable and recovers when the JWKS is back', async () => {
      const flaky = await TestIdentityProvider.start();
      try {
        const verifier = new TokenVerifier(config({ issuers: [{ issuer: flaky.issuer, jwksUri: flaky.jwksUri }] }));
        flaky.failJwks(503);

        await expectRejection(verifier.verify(await flaky.sign({ sub: 'agent-1' })), 'jwks_unavailable');

        flaky.failJwks(null);
        await expect(verifier.verify(await flaky.sign({ sub: 'agent-1' }))).resolves.toMatchObject({
          subject: 'agent-1',
        });
      } finally {
        await flaky.stop();
      }
    });

    it('refuses with jwks_unavailable when the issuer does not answer', async () => {
      const gone = await TestIdentityProvider.start();
      const token = await gone.sign({ sub: 'agent-1' });
      await gone.stop();
      const verifier = new TokenVerifier(config({ issuers: [{ issuer: gone.issuer, jwksUri: gone.jwksUri }] }));

      await expectRejection(verifier.verify(token), 'jwks_unavailable');
    });
  });

  describe('cache', () => {
    const start = Date.parse('2030-01-01T00:00:00Z');
    let now: number;
    const clock: Clock = () => now;

    beforeEach(() => {
      now = start;
    });

    it('serves a repeated token from memory', async () => {
      const verifier = new TokenVerifier(config({ clockSkewSeconds: 0 }), clock);
      const token = await idpA.sign({ sub: 'agent-1', expiresInSeconds: 600 }, { now });

      await verifier.verify(token);
      await verifier.verify(token);

      expect(verifier.stats()).toEqual({ cacheHits: 1, cacheMisses: 1, cacheEntries: 1 });
    });

    it('re-verifies after 60 seconds even if the token lives longer', async () => {
      const verifier = new TokenVerifier(config({ clockSkewSeconds: 0 }), clock);
      const token = await idpA.sign({ sub: 'agent-1', expiresInSeconds: 600 }, { now });
      await verifier.verify(token);

      now = start + 60_000;
      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'agent-1' });

      expect(verifier.stats()).toMatchObject({ cacheHits: 0, cacheMisses: 2 });
    });

    it('never serves a token past its exp', async () => {
      const verifier = new TokenVerifier(config({ clockSkewSeconds: 0 }), clock);
      const token = await idpA.sign({ sub: 'agent-1', expiresInSeconds: 30 }, { now });
      await verifier.verify(token);

      now = start + 29_000;
      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'agent-1' });
      now = start + 30_000;
      await expectRejection(verifier.verify(token), 'expired');

      expect(verifier.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 2 });
    });

    it('does not keep a token accepted only thanks to the clock skew', async () => {
      const verifier = new TokenVerifier(config({ clockSkewSeconds: 60 }), clock);
      const token = await idpA.sign({ sub: 'agent-1', expiresInSeconds: -10 }, { now });

      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'agent-1' });

      expect(verifier.stats().cacheEntries).toBe(0);
    });

    it('does not cache rejections', async () => {
      const verifier = new TokenVerifier(config(), clock);
      const token = await idpA.wrongAudience({}, { now });

      await expectRejection(verifier.verify(token), 'audience');
      await expectRejection(verifier.verify(token), 'audience');

      expect(verifier.stats()).toEqual({ cacheHits: 0, cacheMisses: 2, cacheEntries: 0 });
    });

    it('hands out copies that callers cannot alter', async () => {
      const verifier = new TokenVerifier(config(), clock);
      const token = await idpA.sign({ sub: 'agent-1', groups: ['agents'] }, { now });

      (await verifier.verify(token)).groups.push('admins');

      await expect(verifier.verify(token)).resolves.toMatchObject({ groups: ['agents'] });
    });

    it('holds at most cacheSize entries', async () => {
      const verifier = new TokenVerifier(config({ cacheSize: 2 }), clock);
      for (const sub of ['a', 'b', 'c']) {
        await verifier.verify(await idpA.sign({ sub }, { now }));
      }

      expect(verifier.stats().cacheEntries).toBe(2);
    });

    it('is off with cacheSize 0', async () => {
      const verifier = new TokenVerifier(config({ cacheSize: 0 }), clock);
      const token = await idpA.sign({ sub: 'agent-1' }, { now });

      await verifier.verify(token);
      await verifier.verify(token);

      expect(verifier.stats()).toEqual({ cacheHits: 0, cacheMisses: 0, cacheEntries: 0 });
    });
  });
});
