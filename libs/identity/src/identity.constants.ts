/** Injection token of the one `TokenVerifier` an application uses. */
export const TOKEN_VERIFIER = Symbol('airlock.identity.token-verifier');

/** Passport strategy name registered by `AirlockJwtStrategy`. */
export const AIRLOCK_JWT_STRATEGY = 'airlock-jwt';
