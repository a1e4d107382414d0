import { z } from 'zod';
import {
  ConnectionNameSchema,
  DecisionSchema,
  IdSchema,
  IsoTimeSchema,
  PrincipalSchema,
  ProtocolSchema,
} from './common';

/* ---------- airlock.policy.evaluate ---------- */

export const HttpOperationSchema = z.object({
  kind: z.literal('http'),
  method: z
    .string()
    .regex(/^[A-Z]{1,16}$/, 'HTTP method in upper case')
    .describe('HTTP method, upper case.'),
  path: z
    .string()
    .startsWith('/')
    .max(8192)
    .describe('Path below the connection (/c/<connection>), without the query string.'),
});
export type HttpOperation = z.infer<typeof HttpOperationSchema>;

export const OperationSchema = z.discriminatedUnion('kind', [HttpOperationSchema]);
export type Operation = z.infer<typeof OperationSchema>;

/** Who asks to do what, where: the part every request about one operation carries. */
const OperationContext = {
  requestId: IdSchema,
  sessionId: IdSchema,
  principal: PrincipalSchema,
  connection: ConnectionNameSchema,
  protocol: ProtocolSchema,
  operation: OperationSchema,
};

export const PolicyEvaluateRequestSchema = z.object(OperationContext);
export type PolicyEvaluateRequest = z.infer<typeof PolicyEvaluateRequestSchema>;

export const PolicyDecisionSchema = z.object({
  requestId: IdSchema,
  decision: DecisionSchema,
  reason: z.string(),
  /** The rule that decided; absent when the default applied. */
  ruleId: z.string().optional(),
  policyVersion: z.string().min(1),
  /** Masking rules that apply to the response. */
  masking: z.array(z.string()),
});
export type PolicyDecision = z.infer<typeof PolicyDecisionSchema>;

/* ---------- airlock.vault.lease ---------- */

export const VaultLeaseRequestSchema = z.object({
  requestId: IdSchema,
  connection: ConnectionNameSchema,
  /** Ingress instance id: the lease secret is sealed to this instance only. */
  ingressInstance: z.string().min(1),
  /** The instance's X25519 public key, base64 (raw 32 bytes). */
  publicKey: z.string().min(1),
});
export type VaultLeaseRequest = z.infer<typeof VaultLeaseRequestSchema>;

export const SealedSecretSchema = z.object({
  alg: z.literal('X25519-HKDF-SHA256-A256GCM'),
  ephemeralPublicKey: z.string(),
  iv: z.string(),
  ciphertext: z.string(),
  tag: z.string(),
});

export const CredentialKindSchema = z.enum(['bearer', 'header', 'basic', 'aws-sigv4', 'postgres-password']);
export type CredentialKind = z.infer<typeof CredentialKindSchema>;

export const VaultLeaseReplySchema = z.object({
  requestId: IdSchema,
  leaseId: IdSchema,
  connection: ConnectionNameSchema,
  protocol: ProtocolSchema,
  /** Where the connection's upstream is (no credentials in it). */
  upstream: z.url(),
  credentialKind: CredentialKindSchema,
  /** Request headers that carry credentials for this upstream: always dropped from the agent's request. */
  agentCredentialHeaders: z.array(z.string().regex(/^[a-z0-9-]+$/)),
  expiresAt: IsoTimeSchema,
  secretVersion: z.number().int().positive(),
  /** The credential, sealed to the requesting ingress instance's public key: a `LeaseSecret` as JSON. */
  sealed: SealedSecretSchema,
});
export type VaultLeaseReply = z.infer<typeof VaultLeaseReplySchema>;

/** What a sealed lease holds, by credential kind. Never on Kafka in the clear. */
export const LeaseSecretSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bearer'), token: z.string().min(1) }),
  z.object({ kind: z.literal('header'), header: z.string().regex(/^[a-z0-9-]+$/), value: z.string().min(1) }),
  z.object({ kind: z.literal('basic'), username: z.string(), password: z.string() }),
  z.object({
    kind: z.literal('aws-sigv4'),
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
    sessionToken: z.string().optional(),
    region: z.string().min(1),
    service: z.string().min(1).default('s3'),
  }),
  z.object({ kind: z.literal('postgres-password'), username: z.string().min(1), password: z.string() }),
]);
export type LeaseSecret = z.infer<typeof LeaseSecretSchema>;

/* ---------- airlock.approval.request ---------- */

export const ApprovalStateSchema = z.enum(['pending', 'approved', 'denied', 'expired', 'cancelled', 'used']);
export type ApprovalState = z.infer<typeof ApprovalStateSchema>;

export const ApprovalRequestSchema = z.object({
  ...OperationContext,
  fingerprint: z.string().min(1),
  ruleId: z.string().optional(),
  reason: z.string(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

export const ApprovalReplySchema = z.object({
  requestId: IdSchema,
  approvalId: IdSchema,
  state: ApprovalStateSchema,
  expiresAt: IsoTimeSchema,
});
export type ApprovalReply = z.infer<typeof ApprovalReplySchema>;

/** Every request topic with its request and reply schema. */
export const RequestReplyContracts = {
  'airlock.policy.evaluate': { request: PolicyEvaluateRequestSchema, reply: PolicyDecisionSchema },
  'airlock.vault.lease': { request: VaultLeaseRequestSchema, reply: VaultLeaseReplySchema },
  'airlock.approval.request': { request: ApprovalRequestSchema, reply: ApprovalReplySchema },
} as const;
export type RequestReplyContracts = typeof RequestReplyContracts;
export type RequestOf<T extends keyof RequestReplyContracts> = z.infer<RequestReplyContracts[T]['request']>;
export type ReplyOf<T extends keyof RequestReplyContracts> = z.infer<RequestReplyContracts[T]['reply']>;
