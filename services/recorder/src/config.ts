import { z } from 'zod';
import { BaseConfigSchema, loadConfig } from '@airlock/runtime';

export const RecorderConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8083),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a postgres:// URL' }),
  /**
   * Where a recorder group with no committed offsets starts: `earliest` (the default: nothing
   * audited before the first start is missed) or `latest` (a throwaway store, as in tests).
   */
  AUDIT_START_FROM: z.enum(['earliest', 'latest']).default('earliest'),
});
export type RecorderConfig = z.infer<typeof RecorderConfigSchema>;
export const RECORDER_CONFIG = Symbol('RECORDER_CONFIG');

export function recorderConfig(): RecorderConfig {
  return loadConfig(RecorderConfigSchema);
}
