import { z } from 'zod';
import { IdentitySettingsSchema } from '@airlock/identity';
import { BaseConfigSchema, loadConfig } from '@airlock/runtime';

const ms = (def: number) => z.coerce.number().int().min(1).max(600000).default(def);

export const IngressConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  ...IdentitySettingsSchema.shape,
  CONNECTIONS_FILE: z.string().min(1, 'CONNECTIONS_FILE must name the YAML connections file'),
  POLICY_TIMEOUT_MS: ms(2000),
  VAULT_TIMEOUT_MS: ms(2000),
  /** A lease is renewed this long before it expires, and never used closer to its end. */
  LEASE_REFRESH_MARGIN_MS: ms(5000),
  AUDIT_TIMEOUT_MS: ms(3000),
  UPSTREAM_TIMEOUT_MS: ms(30000),
  DECISION_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10000),
  DECISION_CACHE_TTL_MS: ms(60000),
  /** Processes sharing the listening port; more than one uses more cores. */
  INGRESS_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).max(4096).default(128),
  ALLOW_INSECURE_JWKS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});
export type IngressConfig = z.infer<typeof IngressConfigSchema>;
export const INGRESS_CONFIG = Symbol('INGRESS_CONFIG');

export function ingressConfig(): IngressConfig {
  return loadConfig(IngressConfigSchema);
}
