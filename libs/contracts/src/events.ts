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

/** At most this many bytes of a dead-lettered message are kept (base64), well under Kafka's message limit. */
export const DEAD_LETTER_VALUE_MAX = 512 * 1024;

/**
 * An audit message the recorder could not store, published on `airlock.audit.deadletter` before
 * the recorder moves past it: nothing leaves the audit stream without a trace.
 */
export const AuditDeadLetterSchema = z.object({
  stage: z
    .enum(['contract', 'store'])
    .describe('contract: the message is not an audit event the contract accepts; store: the store refused it.'),
  reason: z.string().max(2000).describe('Why, as the recorder found it.'),
  topic: z.string().describe('Where the message was read: airlock.audit.'),
  partition: z.number().int().nonnegative(),
  offset: z.string().regex(/^\d+$/).describe('Kafka offset of the message: with partition, its identity.'),
  key: z.string().max(200).nullable().describe('The message key (the session id), as text; null when absent.'),
  eventId: z.string().max(200).optional().describe('The id field of the message, when it had one.'),
  eventType: z.string().max(200).optional().describe('The type field of the message, when it had one.'),
  size: z.number().int().nonnegative().describe('Size of the message value in bytes.'),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('SHA-256 of the whole message value (hex).'),
  value: z.string().describe(`The message value, base64, cut at ${DEAD_LETTER_VALUE_MAX} bytes (see truncated).`),
  truncated: z.boolean().describe('True when value holds only the first bytes of the message.'),
  deadLetteredAt: IsoTimeSchema,
});
export type AuditDeadLetter = z.infer<typeof AuditDeadLetterSchema>;
