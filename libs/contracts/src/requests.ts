import { z } from 'zod';
import {
  ConnectionNameSchema,
  DecisionSchema,
  IdSchema,
  IsoTimeSchema,
  MessageSignatureSchema,
  PrincipalSchema,
  ProtocolSchema,
} from './common';

/* ---------- airlock.policy.evaluate ---------- */

export const HttpQueryParamSchema = z.object({
  name: z.string().min(1).max(1024).describe('Parameter name, decoded.'),
  value: z
    .string()
    .max(8192)
    .optional()
    .describe('Value, decoded ("+" is a space); absent when the parameter had no "=" (as in ?delete).'),
});
export type HttpQueryParam = z.infer<typeof HttpQueryParamSchema>;

export const S3ObjectRefSchema = z.object({
  bucket: z.string().min(1).max(255),
  key: z.string().min(1).max(4096),
  versionId: z.string().max(1024).optional(),
});

export const S3OperationSchema = z.object({
  operation: z
    .string()
    .regex(/^[A-Za-z0-9]{1,64}$/)
    .describe(
      'S3 API action (GetObject, PutObject, DeleteObjects, ...), Unknown when the request is none the gateway knows.',
    ),
  bucket: z.string().min(1).max(255).optional().describe('Bucket; absent for ListBuckets.'),
  key: z.string().min(1).max(4096).optional().describe('Object key, decoded; absent for bucket operations.'),
  copySource: S3ObjectRefSchema.optional().describe('CopyObject and UploadPartCopy: the object read.'),
});
export type S3Operation = z.infer<typeof S3OperationSchema>;

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
    .describe(
      'Path below the connection (/c/<connection>), without the query string, in the canonical form the ' +
        'upstream receives (docs/policy-http.md).',
    ),
  query: z
    .array(HttpQueryParamSchema)
    .max(256)
    .optional()
    .describe(
      'The query parameters, decoded, in the order sent upstream; absent when there is no query. For policy ' +
        'only: never in audit events.',
    ),
  caseSensitive: z
    .boolean()
    .optional()
    .describe('True when the connection declares that its upstream tells paths apart by case.'),
  s3: S3OperationSchema.optional().describe('On an S3 connection (aws-sigv4, service s3): the S3 operation.'),
  headers: z
    .record(z.string().regex(/^[a-z0-9!#$%&'*+.^_`|~-]{1,256}$/), z.string().max(16384))
    .optional()
    .describe(
      'Request headers forwarded upstream (names lower case, repeated values joined by ", "), for policy only: ' +
        'never in audit events.',
    ),
});
export type HttpOperation = z.infer<typeof HttpOperationSchema>;

/** What a SQL statement does, as the PostgreSQL parser sees it. */
export const SqlClassSchema = z
  .enum(['read', 'write', 'ddl', 'dcl', 'admin', 'transaction', 'session'])
  .describe(
    'read: returns data only; write: changes rows (also when hidden in a read); ddl: changes schema objects; ' +
      'dcl: roles and privileges; admin: server or database administration (VACUUM, CHECKPOINT, ALTER SYSTEM, ' +
      'LOAD, ...); transaction: BEGIN, COMMIT, SAVEPOINT, ...; session: SET, SHOW, RESET, DISCARD, LISTEN, ...',
  );
export type SqlClass = z.infer<typeof SqlClassSchema>;

export const SqlRiskSchema = z
  .enum([
    'write-without-where',
    'hidden-write',
    'dangerous-function',
    'server-program',
    'server-file',
    'role-change',
    'procedural-code',
  ])
  .describe(
    'write-without-where: UPDATE or DELETE with no WHERE clause, and TRUNCATE; hidden-write: a write inside what looks like a ' +
      'read (data-modifying CTE, SELECT INTO, a function that may write); dangerous-function: server file ' +
      'access, program execution, role or session-authorization changes, backend control; server-program: ' +
      'COPY ... PROGRAM; server-file: COPY to or from a server file; role-change: SET ROLE, SET SESSION ' +
      'AUTHORIZATION or set_config of either; procedural-code: DO blocks and CREATE FUNCTION/PROCEDURE bodies.',
  );
export type SqlRisk = z.infer<typeof SqlRiskSchema>;

export const SqlStatementSchema = z.object({
  command: z
    .string()
    .min(1)
    .max(64)
    .describe('The statement kind as PostgreSQL tags it, upper case: SELECT, UPDATE, CREATE TABLE, GRANT, ...'),
  class: SqlClassSchema,
  tables: z
    .array(z.string().max(200))
    .max(256)
    .describe('Tables and views the statement names, lower case, schema-qualified when written so.'),
  functions: z
    .array(z.string().max(200))
    .max(256)
    .describe('Functions the statement calls, lower case, schema-qualified when written so.'),
  risks: z.array(SqlRiskSchema).describe('Risky traits of the statement; empty when none.'),
});
export type SqlStatement = z.infer<typeof SqlStatementSchema>;

export const PostgresOperationSchema = z.object({
  kind: z.literal('postgres'),
  via: z
    .enum(['simple', 'extended'])
    .describe('simple: a Query message (one or several statements); extended: Parse/Bind/Execute.'),
  sql: z
    .string()
    .max(16384)
    .describe(
      'The statement text with every literal replaced by a $n placeholder (cut at 16384 characters), or, when ' +
        'the parser could not parse it, a SHA-256 of the text only.',
    ),
  fingerprint: z
    .string()
    .min(1)
    .max(80)
    .describe('Fingerprint of the statement structure (libpg_query), equal for texts that differ only in literals.'),
  parsed: z.boolean().describe('False when the PostgreSQL parser could not parse the text.'),
  statements: z.array(SqlStatementSchema).max(1000).describe('Each statement of the message, in order.'),
  paramCount: z.number().int().nonnegative().describe('Number of bind parameters (extended protocol).'),
  params: z
    .array(z.string().nullable())
    .max(65535)
    .optional()
    .describe('Bind parameter values in text form (binary ones as \\x hex), for policy only: never in audit events.'),
});
export type PostgresOperation = z.infer<typeof PostgresOperationSchema>;

export const OperationSchema = z.discriminatedUnion('kind', [HttpOperationSchema, PostgresOperationSchema]);
export type Operation = z.infer<typeof OperationSchema>;

/**
 * Opening a session on a connection, before any operation in it (the PostgreSQL listener asks at
 * start-up, before it takes a lease or opens an upstream session): may this principal use the
 * connection at all? Policy only; never held for approval, never in an audit event's operation.
 */
export const ConnectOperationSchema = z.object({ kind: z.literal('connect') });
export type ConnectOperation = z.infer<typeof ConnectOperationSchema>;

/** What policy is asked about: an operation, or opening a session. */
export const PolicyOperationSchema = z.discriminatedUnion('kind', [
  HttpOperationSchema,
  PostgresOperationSchema,
  ConnectOperationSchema,
]);
export type PolicyOperation = z.infer<typeof PolicyOperationSchema>;

/** Who asks to do what, where: the part every request about one operation carries. */
const OperationContext = {
  requestId: IdSchema,
  sessionId: IdSchema,
  principal: PrincipalSchema,
  connection: ConnectionNameSchema,
  protocol: ProtocolSchema,
  operation: OperationSchema,
};

export const PolicyEvaluateRequestSchema = z.object({ ...OperationContext, operation: PolicyOperationSchema });
export type PolicyEvaluateRequest = z.infer<typeof PolicyEvaluateRequestSchema>;

/** How a `review` decision is to be approved: from the deciding policy rule. */
export const ApprovalRulesSchema = z.object({
  /** Members of any of these groups may approve or deny. */
  approverGroups: z.array(z.string().min(1)).min(1),
  /** Distinct approvers needed (N of M). */
  required: z.number().int().min(1).max(10),
  /** A pending approval expires after this long. */
  expiresInSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600),
  /** Once approved, the same operation by the same principal is allowed for this long (just-in-time access); 0 or absent: one use. */
  grantSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .optional(),
});
export type ApprovalRules = z.infer<typeof ApprovalRulesSchema>;

export const PolicyDecisionSchema = z.object({
  requestId: IdSchema,
  decision: DecisionSchema,
  reason: z.string(),
  /** The rule that decided; absent when the default applied. */
  ruleId: z.string().optional(),
  policyVersion: z.string().min(1),
  /** Masking rules that apply to the response. */
  masking: z.array(z.string()),
  /** True when the decision depended on bind parameter values: the ingress must not reuse it for other values. */
  dependsOnParams: z.boolean().optional(),
  /** True when the decision depended on request header values: the ingress must not reuse it for other headers. */
  dependsOnHeaders: z.boolean().optional(),
  /** True when the audit trail may keep the statement text with its literals. */
  auditLiterals: z.boolean().optional(),
  /**
   * True when SQL statements may use masked columns to choose or order rows (WHERE, JOIN, GROUP
   * BY, HAVING, ORDER BY, ...); absent or false: the ingress refuses such statements.
   */
  allowMaskedSearch: z.boolean().optional(),
  /** With `review`: who may approve, how many must, and for how long. */
  approval: ApprovalRulesSchema.optional(),
  /** By the policy service; the ingress acts on no decision without it. */
  signature: MessageSignatureSchema.optional(),
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
  /** By the ingress instance's identity key: the vault seals only to keys vouched for by an ingress it trusts. */
  signature: MessageSignatureSchema.optional(),
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
  /** By the vault; the ingress uses no lease without it. */
  signature: MessageSignatureSchema.optional(),
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
  /**
   * The exact operation, as the ingress hashes it: for SQL the statement text and its bind
   * parameters, for HTTP the method, path, query and body. A pending approval is reused, a
   * one-time approval used and a grant window honoured only for the same fingerprint, so an
   * approver's yes never covers an operation other than the one shown.
   */
  fingerprint: z.string().min(1).max(128),
  ruleId: z.string().optional(),
  reason: z.string(),
  /** From the deciding policy rule: who approves, how many, how long. */
  rules: ApprovalRulesSchema,
  /**
   * What the approvers are shown: the exact statement, or the HTTP request line. It may hold the
   * agent's data (never a gateway credential), so it is kept in the approval store, not on the audit stream.
   */
  detail: z.string().max(65536),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

export const ApprovalReplySchema = z.object({
  requestId: IdSchema,
  approvalId: IdSchema,
  /**
   * pending: a person has to decide, the decision follows on airlock.approval.decided;
   * approved: an earlier approval of the same operation lets it run now (a one-time approval is
   * used by this answer, a grant window covers it until grantUntil); denied/expired/cancelled
   * never come back for a new request.
   */
  state: ApprovalStateSchema,
  expiresAt: IsoTimeSchema,
  /** Where approvers look at it (the approval API or console). */
  url: z.url().optional(),
  /** True when a pending approval of the same operation was reused (no new notification). */
  reused: z.boolean().optional(),
  /** With `approved` under a grant window: until when it holds. */
  grantUntil: IsoTimeSchema.optional(),
  /** By the approval service; the ingress acts on no answer without it. */
  signature: MessageSignatureSchema.optional(),
});
export type ApprovalReply = z.infer<typeof ApprovalReplySchema>;

/* ---------- airlock.approval.status ---------- */

/**
 * Where one approval stands, asked on behalf of the principal it was requested for (an agent's
 * `approval_status` tool call). The approval service answers `found: false` alike for an unknown
 * id and for someone else's approval, so an id reveals nothing to a principal it does not belong to.
 */
export const ApprovalStatusRequestSchema = z.object({
  requestId: IdSchema,
  approvalId: IdSchema,
  principal: PrincipalSchema,
});
export type ApprovalStatusRequest = z.infer<typeof ApprovalStatusRequestSchema>;

export const ApprovalStatusReplySchema = z.object({
  requestId: IdSchema,
  approvalId: IdSchema,
  found: z.boolean(),
  /** As of the answer: a pending approval past its expiry is answered `expired`. */
  state: ApprovalStateSchema.optional(),
  expiresAt: IsoTimeSchema.optional(),
  decidedAt: IsoTimeSchema.optional(),
  /** Distinct approvals so far and how many are needed. */
  approvals: z.number().int().min(0).optional(),
  required: z.number().int().min(1).optional(),
  grantUntil: IsoTimeSchema.optional(),
  url: z.url().optional(),
  /** By the approval service; the ingress shows nothing without it. */
  signature: MessageSignatureSchema.optional(),
});
export type ApprovalStatusReply = z.infer<typeof ApprovalStatusReplySchema>;

/** Every request topic with its request and reply schema. */
export const RequestReplyContracts = {
  'airlock.policy.evaluate': { request: PolicyEvaluateRequestSchema, reply: PolicyDecisionSchema },
  'airlock.vault.lease': { request: VaultLeaseRequestSchema, reply: VaultLeaseReplySchema },
  'airlock.approval.request': { request: ApprovalRequestSchema, reply: ApprovalReplySchema },
  'airlock.approval.status': { request: ApprovalStatusRequestSchema, reply: ApprovalStatusReplySchema },
} as const;
export type RequestReplyContracts = typeof RequestReplyContracts;
export type RequestOf<T extends keyof RequestReplyContracts> = z.infer<RequestReplyContracts[T]['request']>;
export type ReplyOf<T extends keyof RequestReplyContracts> = z.infer<RequestReplyContracts[T]['reply']>;
