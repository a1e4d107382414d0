import { z } from 'zod';
import { BaseConfigSchema, loadConfig } from '@airlock/runtime';

export const VaultConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8084),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a postgres:// URL' }),
});
export type VaultConfig = z.infer<typeof VaultConfigSchema>;

export function vaultConfig(): VaultConfig {
  return loadConfig(VaultConfigSchema);
}
