import { createHash } from 'node:crypto';
import type { Principal } from '@airlock/contracts';
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type KeyLike,
} from 'jose';
import {
  resolveIdentityConfig,
  type IdentityConfig,
  type ResolvedIdentityConfig,
  type ResolvedIssuer,
} from './identity-config';
import { TokenRejectedError, type TokenRejectionCode } from './token-rejected.error';
import { VerificationCache } from './verification-cache';

/** Epoch milliseconds. */
export type Clock = () => number;

/** A verified token is served from memory for at most this long (and never past its `exp`). */
export const CACHE_TTL_MS = 60_000;

/** Larger than any real access token; refused before hashing or decoding. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface TokenVerifierStats {
  cacheHits: number;
  cacheMisses: number;
  cacheEntries: number;
}

interface IssuerVerifier {
  trusted: ResolvedIssuer;
  getKey: JWTVerifyGetKey;
  options: JWTVerifyOptions;
}

/** Thrown by an issuer's key resolver when its JWKS cannot be obtained or used. */
class KeySetUnavailable extends Error {}

/**
 * Verifies OIDC access tokens from several trusted issuers. The issuer is chosen by the
 * token's `iss` from a fixed allowlist, and its keys come only from the configured JWKS URI:
 * `jku`, `x5u` and `jwk` headers are never consulted.
 */
export class TokenVerifier {
  private readonly config: ResolvedIdentityConfig;
  private readonly issuers = new Map<string, IssuerVerifier>();
  private readonly cache: VerificationCache;
  private cacheHits = 0;
  private cacheMisses = 0;

  constructor(
    config: IdentityConfig,
    private readonly clock: Clock = Date.now,
  ) {
    this.config = resolveIdentityConfig(config);
    this.cache = new VerificationCache(this.config.cacheSize);
    for (const trusted of this.config.issuers) {
      this.issuers.set(trusted.issuer, {
        trusted,
        getKey: keyResolver(trusted.jwksUri, this.config.jwksTimeoutMs),
        options: {
          issuer: trusted.issuer,
          audience: trusted.audience,
          algorithms: this.config.algorithms,
          clockTolerance: this.config.clockSkewSeconds,
          requiredClaims: [...new Set(['exp', 'sub', trusted.subjectClaim])],
        },
      });
    }
  }

  /** Resolves to the caller's principal or rejects with a `TokenRejectedError`, never anything else. */
  async verify(token: string | null | undefined): Promise<Principal> {
    if (typeof token !== 'string' || token.trim() === '') {
      throw new TokenRejectedError('missing');
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new TokenRejectedError('malformed');
    }

    const cacheKey = this.config.cacheSize > 0 ? createHash('sha256').update(token).digest('base64url') : '';
    if (cacheKey !== '') {
      const cached = this.cache.get(cacheKey, this.clock());
      if (cached !== undefined) {
        this.cacheHits += 1;
        return cached;
      }
      this.cacheMisses += 1;
    }

    const verifier = this.selectIssuer(token);
    const now = this.clock();
    const payload = await this.verifySignatureAndClaims(token, verifier, now);
    const principal = toPrincipal(payload, verifier.trusted);

    if (cacheKey !== '') {
      // `exp` is required, so it is a number here (jose checked its type).
      const validUntil = Math.min((payload.exp as number) * 1000, now + CACHE_TTL_MS);
      this.cache.set(cacheKey, principal, validUntil, now);
    }
    return principal;
  }

  stats(): TokenVerifierStats {
    return { cacheHits: this.cacheHits, cacheMisses: this.cacheMisses, cacheEntries: this.cache.size };
  }

  /** Forgets every cached verification, e.g. when a signing key is suspected to be compromised. */
  clearCache(): void {
    this.cache.clear();
  }

  private selectIssuer(token: string): IssuerVerifier {
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      // Decoded without verification only to pick the issuer; nothing else is trusted yet.
      iss = decodeJwt(token).iss;
    } catch (cause) {
      throw new TokenRejectedError('malformed', { cause });
    }
    if (typeof alg !== 'string' || !this.config.algorithms.includes(alg)) {
      throw new TokenRejectedError('algorithm');
    }
    const verifier = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    if (verifier === undefined) {
      throw new TokenRejectedError('untrusted_issuer');
    }
    return verifier;
  }

  private async verifySignatureAndClaims(token: string, verifier: IssuerVerifier, now: number): Promise<JWTPayload> {
    const options: JWTVerifyOptions = { ...verifier.options, currentDate: new Date(now) };
    try {
      return (await jwtVerify(token, verifier.getKey, options)).payload;
    } catch (error) {
      if (error instanceof errors.JWKSMultipleMatchingKeys) {
        return verifyWithCandidates(token, error, options);
      }
      throw rejection(error);
    }
  }
}

/**
 * A token without `kid` can match several keys of the issuer (during a key rotation, say);
 * jose then hands over the candidates and leaves the choice to the caller.
 */
async function verifyWithCandidates(
  token: string,
  candidates: errors.JWKSMultipleMatchingKeys,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  let lastError: unknown = new errors.JWSSignatureVerificationFailed();
  try {
    for await (const key of candidates as unknown as AsyncIterable<KeyLike>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (error) {
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) {
          throw error;
        }
        lastError = error;
      }
    }
  } catch (error) {
    throw rejection(error);
  }
  throw rejection(lastError);
}

function keyResolver(jwksUri: URL, timeoutDuration: number): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(jwksUri, { timeoutDuration });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw error;
      }
      // Network failures, timeouts, non-200 answers, unparsable or unusable key sets.
      throw new KeySetUnavailable('JWKS unavailable', { cause: error });
    }
  };
}

function rejection(error: unknown): TokenRejectedError {
  if (error instanceof TokenRejectedError) {
    return error;
  }
  return new TokenRejectedError(rejectionCode(error), { cause: error });
}

function rejectionCode(error: unknown): TokenRejectionCode {
  if (error instanceof KeySetUnavailable) return 'jwks_unavailable';
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm';
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown_key';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature';
  if (error instanceof errors.JWKSTimeout) return 'jwks_unavailable';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return 'audience';
      case 'iss':
        return 'untrusted_issuer';
      case 'nbf':
        return error.reason === 'check_failed' ? 'not_yet_valid' : 'claims';
      default:
        return 'claims';
    }
  }
  // JWSInvalid, JWTInvalid, JOSENotSupported (e.g. an unknown `crit` extension) and anything
  // unexpected: the token could not be processed, and the request fails closed.
  return 'malformed';
}

function toPrincipal(payload: JWTPayload, trusted: ResolvedIssuer): Principal {
  const subject = payload[trusted.subjectClaim];
  if (typeof subject !== 'string' || subject === '') {
    throw new TokenRejectedError('claims');
  }
  return { issuer: trusted.issuer, subject, groups: groupsOf(payload[trusted.groupsClaim]) };
}

function groupsOf(claim: unknown): string[] {
  if (claim === undefined) {
    return [];
  }
  if (typeof claim === 'string') {
    return [claim];
  }
  if (Array.isArray(claim) && claim.every((group): group is string => typeof group === 'string')) {
    return [...claim];
  }
  throw new TokenRejectedError('claims');
}
