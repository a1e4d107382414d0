import { z } from 'zod';
import { BaseConfigSchema, loadConfig, signingKeyFile } from '@airlock/runtime';

export const PolicyConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  POLICY_FILE: z.string().min(1, 'POLICY_FILE must name the YAML policy document'),
  /** The policy service's Ed25519 key: it signs every decision. */
  SIGNING_KEY_FILE: signingKeyFile('policy'),
});
export type PolicyConfig = z.infer<typeof PolicyConfigSchema>;
export const POLICY_CONFIG = Symbol('POLICY_CONFIG');

export function policyConfig(): PolicyConfig {
  return loadConfig(PolicyConfigSchema);
}
