import { z } from 'zod';
import { jsonSetting } from '@airlock/runtime';
import type { IdentityConfig } from './identity-config';

const TrustedIssuerSchema = z
  .object({
    issuer: z.string().min(1),
    jwksUri: z.url(),
    audience: z.array(z.string().min(1)).min(1).optional(),
    groupsClaim: z.string().min(1).optional(),
    subjectClaim: z.string().min(1).optional(),
  })
  .strict();

const commaList = z.string().transform((s) =>
  s
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean),
);

/** The environment settings of token verification, shared by every service that verifies tokens. */
export const IdentitySettingsSchema = z.object({
  /** JSON array of trusted issuers: [{"issuer": "...", "jwksUri": "..."}]. */
  OIDC_ISSUERS: jsonSetting(z.array(TrustedIssuerSchema).min(1, 'trust at least one issuer')),
  OIDC_AUDIENCE: z.string().min(1).pipe(commaList),
  OIDC_ALGORITHMS: commaList.optional(),
  OIDC_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  ALLOW_INSECURE_JWKS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});
export type IdentitySettings = z.infer<typeof IdentitySettingsSchema>;

export function identityConfigFromSettings(s: IdentitySettings): IdentityConfig {
  return {
    issuers: s.OIDC_ISSUERS,
    audience: s.OIDC_AUDIENCE,
    algorithms: s.OIDC_ALGORITHMS,
    clockSkewSeconds: s.OIDC_CLOCK_SKEW_SECONDS,
    allowInsecureJwksUri: s.ALLOW_INSECURE_JWKS,
  };
}
