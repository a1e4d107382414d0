export const TOKEN_REJECTION_CODES = [
  'missing',
  'malformed',
  'untrusted_issuer',
  'algorithm',
  'unknown_key',
  'signature',
  'expired',
  'not_yet_valid',
  'audience',
  'claims',
  'jwks_unavailable',
] as const;

export type TokenRejectionCode = (typeof TOKEN_REJECTION_CODES)[number];

/** Safe to return to the client: static text that never echoes the token or its claims. */
export const TOKEN_REJECTION_MESSAGES: Readonly<Record<TokenRejectionCode, string>> = {
  missing: 'A bearer token is required.',
  malformed: 'The bearer token is malformed.',
  untrusted_issuer: 'The token issuer is not trusted.',
  algorithm: 'The token signing algorithm is not allowed.',
  unknown_key: 'The token was signed with an unknown key.',
  signature: 'The token signature is invalid.',
  expired: 'The token has expired.',
  not_yet_valid: 'The token is not valid yet.',
  audience: 'The token is not intended for this service.',
  claims: 'The token claims are invalid.',
  jwks_unavailable: 'The token issuer keys are unavailable; try again later.',
};

/**
 * A token was refused. `message` is public; `cause` is for logs only (it may hold jose's error,
 * which can include claim values, so never send it to the client).
 */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';

  constructor(
    readonly code: TokenRejectionCode,
    options?: { cause?: unknown },
  ) {
    super(TOKEN_REJECTION_MESSAGES[code], options);
  }
}
