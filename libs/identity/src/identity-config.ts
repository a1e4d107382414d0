/** One OIDC issuer whose tokens Airlock accepts. */
export interface TrustedIssuer {
  /** Exact `iss` value, e.g. `https://login.example.com/realms/agents`. */
  issuer: string;
  /** Where this issuer publishes its keys. Fixed by configuration, never taken from a token. */
  jwksUri: string;
  /** Overrides `IdentityConfig.audience` for this issuer. */
  audience?: string[];
  /** Claim holding the caller's groups; defaults to `groups`. */
  groupsClaim?: string;
  /** Claim holding the caller's subject; defaults to `sub`. */
  subjectClaim?: string;
}

export interface IdentityConfig {
  issuers: TrustedIssuer[];
  /** Accepted `aud` values (a token must name at least one). */
  audience: string[];
  /** Asymmetric JWS algorithms only; defaults to `DEFAULT_ALGORITHMS`. */
  algorithms?: string[];
  /** Tolerance for `exp` and `nbf`, 0..`MAX_CLOCK_SKEW_SECONDS`. */
  clockSkewSeconds: number;
  /** Successful verifications kept in memory; 0 disables the cache. Defaults to 1000. */
  cacheSize?: number;
  /** Deadline for one JWKS download. Defaults to 5000 ms. */
  jwksTimeoutMs?: number;
  /**
   * JWKS over plain http is refused unless the host is loopback. Set this only for a
   * development IdP inside a private network.
   */
  allowInsecureJwksUri?: boolean;
}

export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

/** Every asymmetric JWS algorithm jose verifies; `none` and HMAC are deliberately absent. */
export const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]);

export const MAX_CLOCK_SKEW_SECONDS = 300;
export const DEFAULT_CACHE_SIZE = 1000;
export const MAX_CACHE_SIZE = 100_000;
export const DEFAULT_JWKS_TIMEOUT_MS = 5000;

export class IdentityConfigError extends Error {
  override readonly name = 'IdentityConfigError';
}

export interface ResolvedIssuer {
  issuer: string;
  jwksUri: URL;
  audience: string[];
  groupsClaim: string;
  subjectClaim: string;
}

export interface ResolvedIdentityConfig {
  issuers: ResolvedIssuer[];
  algorithms: string[];
  clockSkewSeconds: number;
  cacheSize: number;
  jwksTimeoutMs: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Checks the whole configuration once; a bad setting throws an error that names it. */
export function resolveIdentityConfig(config: IdentityConfig): ResolvedIdentityConfig {
  const algorithms = resolveAlgorithms(config.algorithms);
  const clockSkewSeconds = boundedInteger('clockSkewSeconds', config.clockSkewSeconds, 0, MAX_CLOCK_SKEW_SECONDS);
  const cacheSize = boundedInteger('cacheSize', config.cacheSize ?? DEFAULT_CACHE_SIZE, 0, MAX_CACHE_SIZE);
  const jwksTimeoutMs = boundedInteger('jwksTimeoutMs', config.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS, 100, 60_000);
  const defaultAudience = stringList('audience', config.audience ?? []);

  if (!Array.isArray(config.issuers) || config.issuers.length === 0) {
    throw new IdentityConfigError('identity: issuers must list at least one trusted issuer');
  }
  const seen = new Set<string>();
  const issuers = config.issuers.map((trusted, index): ResolvedIssuer => {
    const at = `issuers[${index}]`;
    const issuer = nonEmptyString(`${at}.issuer`, trusted.issuer);
    if (seen.has(issuer)) {
      throw new IdentityConfigError(`identity: ${at}.issuer ${issuer} is listed twice`);
    }
    seen.add(issuer);
    const audience = trusted.audience === undefined ? defaultAudience : stringList(`${at}.audience`, trusted.audience);
    if (audience.length === 0) {
      throw new IdentityConfigError(`identity: ${at} has no audience (set audience or ${at}.audience)`);
    }
    return {
      issuer,
      jwksUri: jwksUrl(`${at}.jwksUri`, trusted.jwksUri, config.allowInsecureJwksUri === true),
      audience,
      groupsClaim: nonEmptyString(`${at}.groupsClaim`, trusted.groupsClaim ?? 'groups'),
      subjectClaim: nonEmptyString(`${at}.subjectClaim`, trusted.subjectClaim ?? 'sub'),
    };
  });

  return { issuers, algorithms, clockSkewSeconds, cacheSize, jwksTimeoutMs };
}

function resolveAlgorithms(algorithms: string[] | undefined): string[] {
  if (algorithms === undefined) {
    return [...DEFAULT_ALGORITHMS];
  }
  const list = stringList('algorithms', algorithms);
  if (list.length === 0) {
    throw new IdentityConfigError('identity: algorithms must not be empty');
  }
  for (const alg of list) {
    if (alg.toLowerCase() === 'none' || /^HS/i.test(alg)) {
      throw new IdentityConfigError(
        `identity: algorithms must not contain ${alg}: only asymmetric signatures are accepted`,
      );
    }
    if (!SUPPORTED_ALGORITHMS.has(alg)) {
      throw new IdentityConfigError(
        `identity: algorithms contains unsupported ${alg} (allowed: ${[...SUPPORTED_ALGORITHMS].join(', ')})`,
      );
    }
  }
  return [...new Set(list)];
}

function jwksUrl(name: string, value: unknown, allowInsecure: boolean): URL {
  const text = nonEmptyString(name, value);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new IdentityConfigError(`identity: ${name} is not a URL`);
  }
  if (url.protocol === 'https:') {
    return url;
  }
  if (url.protocol === 'http:' && (allowInsecure || LOOPBACK_HOSTS.has(url.hostname))) {
    return url;
  }
  throw new IdentityConfigError(
    `identity: ${name} must use https (plain http only for loopback or with allowInsecureJwksUri)`,
  );
}

function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new IdentityConfigError(`identity: ${name} must be a non-empty string`);
  }
  return value;
}

function stringList(name: string, value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw new IdentityConfigError(`identity: ${name} must be a list of strings`);
  }
  return value.map((item, index) => nonEmptyString(`${name}[${index}]`, item));
}

function boundedInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new IdentityConfigError(`identity: ${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}
