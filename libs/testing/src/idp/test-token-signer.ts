import { createHmac, createPublicKey, randomUUID } from 'node:crypto';
import { SignJWT, type JWK, type JWTPayload } from 'jose';
import {
  generateSigningKey,
  loadOrCreateKeys,
  type TestKeySet,
  type TestSigningAlgorithm,
  type TestSigningKey,
} from './idp-keys';

export interface TestTokenClaims {
  sub: string;
  groups?: string[];
  /** Defaults to the signer's audience (`airlock` unless configured). */
  aud?: string | string[];
  /** Defaults to the signer's issuer. */
  iss?: string;
  /** `exp` = `iat` + this; defaults to 300. */
  expiresInSeconds?: number;
  /** Sets `nbf` = `iat` + this (negative puts it in the past); no `nbf` when absent. */
  notBeforeSeconds?: number;
  /** Any further claim is copied into the payload as is. */
  [claim: string]: unknown;
}

export type StandardClaimName = 'iss' | 'sub' | 'aud' | 'exp' | 'iat' | 'nbf' | 'jti';

export interface TestSignOptions {
  /** RS256 (default) or ES256 (needs the provider's EC key). */
  alg?: TestSigningAlgorithm;
  /** Overrides the `kid` header; null leaves it out. */
  kid?: string | null;
  /** Extra protected header parameters, e.g. `jku` or `jwk`, to prove they are ignored. */
  header?: Record<string, unknown>;
  /** Epoch ms used for `iat`/`nbf`/`exp`; defaults to the signer's clock. */
  now?: number;
  /** Standard claims to leave out, e.g. `['exp']`. */
  omit?: StandardClaimName[];
}

export interface TestTokenSignerOptions {
  issuer: string;
  keyFile?: string;
  ecKey?: boolean;
  audience?: string | string[];
  clock?: () => number;
}

export const DEFAULT_TEST_AUDIENCE = 'airlock';
export const DEFAULT_TEST_SUBJECT = 'agent-test';
export const UNTRUSTED_TEST_ISSUER = 'https://untrusted-issuer.invalid';
export const WRONG_TEST_AUDIENCE = 'not-airlock';

/** Mints test JWTs, good ones and every bad variant the verifier must refuse. Needs no server. */
export class TestTokenSigner {
  private impostor: Promise<TestSigningKey> | undefined;

  protected constructor(
    readonly issuer: string,
    protected readonly keys: TestKeySet,
    protected readonly audience: string | string[],
    protected readonly clock: () => number,
  ) {}

  static async create(options: TestTokenSignerOptions): Promise<TestTokenSigner> {
    const keys = await loadOrCreateKeys({ keyFile: options.keyFile, ecKey: options.ecKey });
    return new TestTokenSigner(
      options.issuer,
      keys,
      options.audience ?? DEFAULT_TEST_AUDIENCE,
      options.clock ?? Date.now,
    );
  }

  /** `kid` of the RS256 key. */
  get kid(): string {
    return this.keys.rsa.kid;
  }

  /** The public keys, as the JWKS endpoint serves them. */
  jwks(): { keys: JWK[] } {
    return {
      keys: [this.keys.rsa, ...(this.keys.ec === undefined ? [] : [this.keys.ec])].map((key) => ({ ...key.publicJwk })),
    };
  }

  /** RS256 public key in SPKI PEM, the secret of the classic HS256 key-confusion attack. */
  publicKeyPem(): string {
    return createPublicKey(this.keys.rsa.privateKey).export({ type: 'spki', format: 'pem' }).toString();
  }

  async sign(claims: TestTokenClaims, options: TestSignOptions = {}): Promise<string> {
    const key = this.signingKey(options.alg ?? 'RS256');
    return this.signWith(key, claims, options);
  }

  expired(claims: Partial<TestTokenClaims> = {}, options: TestSignOptions = {}): Promise<string> {
    const now = options.now ?? this.clock();
    return this.sign(this.withDefaults({ expiresInSeconds: 3600, ...claims }), { ...options, now: now - 2 * 3600_000 });
  }

  notYetValid(
    claims: Partial<TestTokenClaims> = {},
    secondsAhead = 3600,
    options: TestSignOptions = {},
  ): Promise<string> {
    return this.sign(
      this.withDefaults({ notBeforeSeconds: secondsAhead, expiresInSeconds: secondsAhead + 3600, ...claims }),
      options,
    );
  }

  wrongIssuer(claims: Partial<TestTokenClaims> = {}, options: TestSignOptions = {}): Promise<string> {
    return this.sign(this.withDefaults({ ...claims, iss: UNTRUSTED_TEST_ISSUER }), options);
  }

  wrongAudience(claims: Partial<TestTokenClaims> = {}, options: TestSignOptions = {}): Promise<string> {
    return this.sign(this.withDefaults({ ...claims, aud: WRONG_TEST_AUDIENCE }), options);
  }

  /** Signed by another RSA key that claims this provider's `kid`. */
  async badSignature(claims: Partial<TestTokenClaims> = {}, options: TestSignOptions = {}): Promise<string> {
    this.impostor ??= generateSigningKey('RS256', this.keys.rsa.kid);
    return this.signWith(await this.impostor, this.withDefaults(claims), options);
  }

  /** `alg: none`, empty signature. */
  algNone(claims: Partial<TestTokenClaims> = {}, options: TestSignOptions = {}): string {
    const header = { alg: 'none', typ: 'JWT', kid: this.keys.rsa.kid, ...options.header };
    return `${segment(header)}.${segment(this.payload(this.withDefaults(claims), options))}.`;
  }

  /**
   * HS256 with the issuer's public key as the HMAC secret (PEM text by default, or the JWK
   * JSON), built by hand because jose refuses to do it.
   */
  hs256WithPublicKey(
    claims: Partial<TestTokenClaims> = {},
    secret: 'pem' | 'jwk' = 'pem',
    options: TestSignOptions = {},
  ): string {
    const header = { alg: 'HS256', typ: 'JWT', kid: this.keys.rsa.kid, ...options.header };
    const signingInput = `${segment(header)}.${segment(this.payload(this.withDefaults(claims), options))}`;
    const key = secret === 'pem' ? this.publicKeyPem() : JSON.stringify(this.keys.rsa.publicJwk);
    return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`;
  }

  /** Signed by the real key, but under a `kid` the JWKS does not list. */
  unknownKid(claims: Partial<TestTokenClaims> = {}, options: TestSignOptions = {}): Promise<string> {
    return this.sign(this.withDefaults(claims), { ...options, kid: `unknown-${randomUUID()}` });
  }

  /** Three segments whose payload is not base64url JSON. */
  malformed(): string {
    return `${segment({ alg: 'RS256', typ: 'JWT', kid: this.keys.rsa.kid })}.not-json!.c2lnbmF0dXJl`;
  }

  private signingKey(alg: TestSigningAlgorithm): TestSigningKey {
    const key = alg === 'RS256' ? this.keys.rsa : this.keys.ec;
    if (key === undefined) {
      throw new Error(`this test identity provider has no ${alg} key (start it with ecKey: true)`);
    }
    return key;
  }

  private async signWith(key: TestSigningKey, claims: TestTokenClaims, options: TestSignOptions): Promise<string> {
    return new SignJWT(this.payload(claims, options))
      .setProtectedHeader({
        typ: 'JWT',
        ...options.header,
        alg: key.alg,
        ...(options.kid === null ? {} : { kid: options.kid ?? key.kid }),
      })
      .sign(key.privateKey);
  }

  private withDefaults(claims: Partial<TestTokenClaims>): TestTokenClaims {
    return { ...claims, sub: claims.sub ?? DEFAULT_TEST_SUBJECT };
  }

  private payload(claims: TestTokenClaims, options: TestSignOptions): JWTPayload {
    const { sub, groups, aud, iss, expiresInSeconds, notBeforeSeconds, ...extra } = claims;
    const iat = Math.floor((options.now ?? this.clock()) / 1000);
    const payload: JWTPayload = {
      ...extra,
      iss: iss ?? this.issuer,
      sub,
      aud: aud ?? this.audience,
      iat,
      exp: iat + (expiresInSeconds ?? 300),
      jti: randomUUID(),
    };
    if (notBeforeSeconds !== undefined) {
      payload.nbf = iat + notBeforeSeconds;
    }
    if (groups !== undefined) {
      payload.groups = groups;
    }
    for (const name of options.omit ?? []) {
      delete payload[name];
    }
    return payload;
  }
}

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
