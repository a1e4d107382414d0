import { z } from 'zod';
import { BaseConfigSchema, loadConfig } from '@airlock/runtime';

export const ApprovalConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8082),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a postgres:// URL' }),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'REDIS_URL must be a redis:// URL' }),
});
export type ApprovalConfig = z.infer<typeof ApprovalConfigSchema>;

export function approvalConfig(): ApprovalConfig {
  return loadConfig(ApprovalConfigSchema);
}
