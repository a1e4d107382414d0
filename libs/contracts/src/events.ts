import { z } from 'zod';
import { ApprovalStateSchema } from './requests';
import { ConnectionNameSchema, IdSchema, IsoTimeSchema, MessageSignatureSchema, PrincipalSchema } from './common';

export const ApprovalDecidedSchema = z.object({
  approvalId: IdSchema,
  state: ApprovalStateSchema,
  decidedBy: z.array(PrincipalSchema),
  decidedAt: IsoTimeSchema,
  comment: z.string().optional(),
  grantUntil: IsoTimeSchema.optional(),
  /** By the approval service; the ingress releases no held operation without it. */
  signature: MessageSignatureSchema.optional(),
});
export type ApprovalDecided = z.infer<typeof ApprovalDecidedSchema>;

/**
 * The requester gave up waiting (a PostgreSQL CancelRequest, the agent hung up): a pending
 * approval is cancelled so nobody approves what nobody waits for. Only the requester may cancel.
 */
export const ApprovalCancelSchema = z.object({
  approvalId: IdSchema,
  requestId: IdSchema,
  sessionId: IdSchema,
  principal: PrincipalSchema,
  reason: z.string().max(500),
});
export type ApprovalCancel = z.infer<typeof ApprovalCancelSchema>;

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
