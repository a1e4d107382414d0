import { z } from 'zod';
import {
  ConnectionNameSchema,
  DecisionSchema,
  IdSchema,
  IsoTimeSchema,
  PrincipalSchema,
  ProtocolSchema,
} from './common';
import { OperationSchema } from './requests';

/**
 * The audit stream is a public contract for SIEM consumers: within a schema version, changes
 * are additive only (new optional fields, new event types).
 */
export const AUDIT_SCHEMA_VERSION = 1 as const;

export const AuditEventTypes = {
  AuthFailed: 'auth.failed',
  OperationIntercepted: 'operation.intercepted',
  OperationDecided: 'operation.decided',
  OperationCompleted: 'operation.completed',
  OperationDenied: 'operation.denied',
  OperationFailed: 'operation.failed',
  VaultConnectionCreated: 'vault.connection_created',
  VaultSecretSet: 'vault.secret_set',
  VaultLeaseIssued: 'vault.lease_issued',
  VaultKeyRewrapped: 'vault.key_rewrapped',
} as const;

const envelope = {
  id: IdSchema,
  schemaVersion: z.literal(AUDIT_SCHEMA_VERSION),
  time: IsoTimeSchema,
  sessionId: IdSchema,
  requestId: IdSchema,
  /** Null only when the caller could not be authenticated. */
  actor: PrincipalSchema.nullable(),
  /** Null when the caller named no valid connection. */
  connection: ConnectionNameSchema.nullable(),
  protocol: ProtocolSchema,
  /** Which service emitted the event. */
  source: z.string().min(1),
};

export const FailureStageSchema = z.enum([
  'routing',
  'policy',
  'upstream',
  'masking',
  'audit',
  'vault',
  'approval',
  'internal',
]);

export const AuthFailedEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.AuthFailed),
  data: z.object({ code: z.string(), reason: z.string(), method: z.string().optional(), path: z.string().optional() }),
});

export const OperationInterceptedEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.OperationIntercepted),
  data: z.object({ operation: OperationSchema }),
});

export const OperationDecidedEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.OperationDecided),
  data: z.object({
    decision: DecisionSchema,
    reason: z.string(),
    ruleId: z.string().optional(),
    policyVersion: z.string(),
    masking: z.array(z.string()),
    /** True when the ingress reused a cached decision of the same policy version. */
    cached: z.boolean(),
  }),
});

export const OperationCompletedEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.OperationCompleted),
  data: z.object({
    status: z.number().int(),
    durationMs: z.number().nonnegative(),
    upstreamMs: z.number().nonnegative(),
    bytesOut: z.number().int().nonnegative(),
    /** Values masked in the response, per rule. Counts only: never the values. */
    masked: z.record(z.string(), z.number().int().nonnegative()).optional(),
  }),
});

export const OperationDeniedEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.OperationDenied),
  data: z.object({ reason: z.string(), ruleId: z.string().optional(), policyVersion: z.string() }),
});

export const OperationFailedEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.OperationFailed),
  data: z.object({ stage: FailureStageSchema, reason: z.string(), status: z.number().int() }),
});

/* Vault administration. `actor` is the administrator; the connection is the one acted on. */

export const VaultConnectionCreatedEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.VaultConnectionCreated),
  data: z.object({ protocol: ProtocolSchema, upstream: z.string(), credentialKind: z.string() }),
});

export const VaultSecretSetEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.VaultSecretSet),
  /** `rotation` is false for the first secret of a connection. */
  data: z.object({ secretVersion: z.number().int().positive(), keyId: z.string(), rotation: z.boolean() }),
});

export const VaultLeaseIssuedEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.VaultLeaseIssued),
  data: z.object({
    leaseId: IdSchema,
    secretVersion: z.number().int().positive(),
    ingressInstance: z.string(),
    expiresAt: IsoTimeSchema,
  }),
});

export const VaultKeyRewrappedEventSchema = z.object({
  ...envelope,
  type: z.literal(AuditEventTypes.VaultKeyRewrapped),
  data: z.object({ fromKeyId: z.string(), toKeyId: z.string(), records: z.number().int().nonnegative() }),
});

export const AuditEventSchema = z.discriminatedUnion('type', [
  AuthFailedEventSchema,
  OperationInterceptedEventSchema,
  OperationDecidedEventSchema,
  OperationCompletedEventSchema,
  OperationDeniedEventSchema,
  OperationFailedEventSchema,
  VaultConnectionCreatedEventSchema,
  VaultSecretSetEventSchema,
  VaultLeaseIssuedEventSchema,
  VaultKeyRewrappedEventSchema,
]);
export type AuditEvent = z.infer<typeof AuditEventSchema>;
export type AuditEventType = AuditEvent['type'];
export type AuditEventOf<T extends AuditEventType> = Extract<AuditEvent, { type: T }>;
/** What a producer fills in; the envelope's id, version and time are added when it is emitted. */
export type AuditEventDraft<T extends AuditEventType = AuditEventType> = T extends AuditEventType
  ? Omit<AuditEventOf<T>, 'id' | 'schemaVersion' | 'time'>
  : never;
