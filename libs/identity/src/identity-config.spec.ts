import { DEFAULT_ALGORITHMS, IdentityConfigError, resolveIdentityConfig, type IdentityConfig } from './identity-config';
import { TokenVerifier } from './token-verifier';

const base: IdentityConfig = {
  issuers: [{ issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks.json' }],
  audience: ['airlock'],
  clockSkewSeconds: 30,
};

function configWith(overrides: Partial<IdentityConfig>): IdentityConfig {
  return { ...base, ...overrides };
}

describe('resolveIdentityConfig', () => {
  it('applies the defaults', () => {
    const resolved = resolveIdentityConfig(base);

    expect(resolved.algorithms).toEqual([...DEFAULT_ALGORITHMS]);
    expect(resolved.issuers[0]).toMatchObject({ audience: ['airlock'], groupsClaim: 'groups', subjectClaim: 'sub' });
    expect(resolved.cacheSize).toBe(1000);
  });

  it.each([['none'], ['NONE'], ['HS256'], ['HS384'], ['hs512']])('refuses algorithm %s', (alg) => {
    expect(() => new TokenVerifier(configWith({ algorithms: ['RS256', alg] }))).toThrow(
      new IdentityConfigError(`identity: algorithms must not contain ${alg}: only asymmetric signatures are accepted`),
    );
  });

  it.each([[['RS1']], [[]]])('refuses algorithms %p', (algorithms) => {
    expect(() => resolveIdentityConfig(configWith({ algorithms }))).toThrow(IdentityConfigError);
  });

  it.each([[-1], [301], [1.5], [Number.NaN]])('refuses clockSkewSeconds %p', (clockSkewSeconds) => {
    expect(() => resolveIdentityConfig(configWith({ clockSkewSeconds }))).toThrow(/clockSkewSeconds/);
  });

  it('accepts the maximum clock skew', () => {
    expect(resolveIdentityConfig(configWith({ clockSkewSeconds: 300 })).clockSkewSeconds).toBe(300);
  });

  it.each([[-1], [100_001]])('refuses cacheSize %p', (cacheSize) => {
    expect(() => resolveIdentityConfig(configWith({ cacheSize }))).toThrow(/cacheSize/);
  });

  it('refuses an empty issuer list', () => {
    expect(() => resolveIdentityConfig(configWith({ issuers: [] }))).toThrow(/issuers/);
  });

  it('refuses an issuer listed twice', () => {
    expect(() => resolveIdentityConfig(configWith({ issuers: [base.issuers[0], base.issuers[0]] }))).toThrow(
      /listed twice/,
    );
  });

  it('refuses an issuer without any audience', () => {
    expect(() => resolveIdentityConfig(configWith({ audience: [] }))).toThrow(/issuers\[0\] has no audience/);
  });

  it('accepts an empty default audience when every issuer has its own', () => {
    const issuers = [{ ...base.issuers[0], audience: ['airlock-prod'] }];

    expect(resolveIdentityConfig(configWith({ audience: [], issuers })).issuers[0].audience).toEqual(['airlock-prod']);
  });

  it.each([['not a url'], ['ftp://idp.example.com/jwks'], ['http://idp.example.com/jwks.json']])(
    'refuses jwksUri %p',
    (jwksUri) => {
      expect(() => resolveIdentityConfig(configWith({ issuers: [{ issuer: 'https://idp', jwksUri }] }))).toThrow(
        /issuers\[0\]\.jwksUri/,
      );
    },
  );

  it('allows plain http for loopback, or when explicitly allowed', () => {
    expect(() =>
      resolveIdentityConfig(configWith({ issuers: [{ issuer: 'i', jwksUri: 'http://127.0.0.1:8080/jwks.json' }] })),
    ).not.toThrow();
    expect(() =>
      resolveIdentityConfig(
        configWith({ issuers: [{ issuer: 'i', jwksUri: 'http://keycloak:8080/jwks' }], allowInsecureJwksUri: true }),
      ),
    ).not.toThrow();
  });
});
