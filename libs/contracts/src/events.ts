import { z } from 'zod';
import { ApprovalStateSchema } from './requests';
import { ConnectionNameSchema, IdSchema, IsoTimeSchema, PrincipalSchema } from './common';

export const ApprovalDecidedSchema = z.object({
  approvalId: IdSchema,
  state: ApprovalStateSchema,
  decidedBy: z.array(PrincipalSchema),
  decidedAt: IsoTimeSchema,
  comment: z.string().optional(),
  grantUntil: IsoTimeSchema.optional(),
});
export type ApprovalDecided = z.infer<typeof ApprovalDecidedSchema>;

export const PolicyChangedSchema = z.object({
  policyId: z.string().min(1),
  version: z.string().min(1),
  changedAt: IsoTimeSchema,
});
export type PolicyChanged = z.infer<typeof PolicyChangedSchema>;

export const VaultRotatedSchema = z.object({
  connection: ConnectionNameSchema,
  secretVersion: z.number().int().nonnegative(),
  rotatedAt: IsoTimeSchema,
});
export type VaultRotated = z.infer<typeof VaultRotatedSchema>;

export const HealthcheckProbeSchema = z.object({ probeId: z.string(), sentAt: IsoTimeSchema });
