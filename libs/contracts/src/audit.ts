import { z } from 'zod';
import {
  ConnectionNameSchema,
  DecisionSchema,
  IdSchema,
  IsoTimeSchema,
  PrincipalSchema,
  AuditProtocolSchema,
  McpToolNameSchema,
  ProtocolSchema,
  UuidV7Schema,
} from './common';
import { ApprovalStateSchema, OperationSchema, PostgresOperationSchema } from './requests';

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
  SessionStarted: 'session.started',
  SessionEnded: 'session.ended',
  StatementCompleted: 'statement.completed',
  StatementFailed: 'statement.failed',
  OperationHeld: 'operation.held',
  ApprovalChanged: 'approval.changed',
  ApprovalNotified: 'approval.notified',
  MessageRejected: 'message.rejected',
} as const;

const envelope = {
  id: UuidV7Schema.describe(
    'Unique id of the event, a UUIDv7 (RFC 9562) carrying the Unix time in milliseconds at which it was made. ' +
      'Delivery is at least once: de-duplicate on it.',
  ),
  schemaVersion: z
    .literal(AUDIT_SCHEMA_VERSION)
    .describe('Major version of the audit schema. Within a major version, changes are additive only.'),
  time: IsoTimeSchema.describe('When the event was made: RFC 3339, emitted in UTC.'),
  sessionId: IdSchema.describe(
    'The session the event belongs to, and the Kafka message key: every event of a session is on one partition.',
  ),
  requestId: IdSchema.describe(
    'Correlates the events of one operation; the ingress returns it to the agent (x-airlock-request-id).',
  ),
  actor: PrincipalSchema.nullable().describe(
    'The authenticated caller, from its OIDC token (for vault.key_rewrapped, the local operator); null when ' +
      'it could not be authenticated, and on vault.lease_issued (the requester is an ingress instance, named in data).',
  ),
  connection: ConnectionNameSchema.nullable().describe(
    'The connection (a named upstream) acted on; null when there is none: the caller named no valid ' +
      'connection, or the event is not about one connection.',
  ),
  protocol: AuditProtocolSchema.describe(
    "Protocol the caller used: http or postgres for the data path, mcp for a tool call of the gateway's MCP " +
      'server (the operation inside is http or postgres, see operation.kind).',
  ),
  tool: McpToolNameSchema.optional().describe(
    'With protocol mcp: the MCP tool whose call the event belongs to. Absent for every other protocol.',
  ),
  source: z.string().min(1).describe('The service that emitted the event, e.g. ingress-proxy or credential-vault.'),
  traceId: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'expected a W3C trace id (32 lowercase hex digits)')
    .optional()
    .describe(
      'Present when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT): the W3C trace id of the operation, the same in ' +
        'every service it touched, to find its spans in the tracing backend. The Kafka message carries it in its ' +
        'traceparent header too.',
    ),
  spanId: z
    .string()
    .regex(/^[0-9a-f]{16}$/, 'expected a W3C span id (16 lowercase hex digits)')
    .optional()
    .describe('With traceId: the span of the emitting service the event was made in.'),
};

/** The discriminator: it selects the shape of `data`. */
function eventType<T extends (typeof AuditEventTypes)[keyof typeof AuditEventTypes]>(type: T) {
  return z.literal(type).describe('The event type: it selects the shape of data.');
}

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

export const AuthFailedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.AuthFailed),
    data: z.object({
      code: z
        .string()
        .describe(
          'Why the caller was refused: a token rejection code (missing, malformed, expired, signature, ...), ' +
            'or forbidden for an authenticated caller outside the group an admin API requires, or whom policy ' +
            'does not let open a PostgreSQL session on the connection.',
        ),
      reason: z.string().describe('The message the caller received; never the token or its claims.'),
      method: z.string().optional().describe('HTTP method of the refused request.'),
      path: z.string().optional().describe('Path of the refused request, without the query string.'),
      ruleId: z
        .string()
        .optional()
        .describe('When policy refused the session: the deny rule that did; absent when no rule admitted it.'),
      policyVersion: z.string().optional().describe('When policy refused the session: the version that decided.'),
    }),
  })
  .describe(
    'A caller was refused before anything else happened: bad or missing credentials, not in the group required, ' +
      'or not allowed by policy to open a session on the connection.',
  );

export const OperationInterceptedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.OperationIntercepted),
    data: z.object({ operation: OperationSchema.describe('The operation the agent asked for.') }),
  })
  .describe('The ingress received an operation from an authenticated agent, before policy decided on it.');

export const OperationDecidedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.OperationDecided),
    data: z.object({
      decision: DecisionSchema.describe(
        'What policy decided; review holds the operation for a person (operation.held).',
      ),
      reason: z.string().describe("Why, in words: the deciding rule's description or the default."),
      ruleId: z.string().optional().describe('The rule that decided; absent when the default applied.'),
      policyVersion: z.string().describe('Version of the policy that decided.'),
      masking: z.array(z.string()).describe('Masking rules policy applies to the response.'),
      cached: z.boolean().describe('True when the ingress reused a cached decision of the same policy version.'),
    }),
  })
  .describe('Policy decided on an intercepted operation.');

const DecisionRecordSchema = z
  .object({
    decision: DecisionSchema,
    reason: z.string(),
    ruleId: z.string().optional(),
    policyVersion: z.string(),
    masking: z.array(z.string()),
    cached: z.boolean(),
  })
  .describe('What policy decided, as in operation.decided.');

/**
 * A read (an HTTP GET, HEAD or OPTIONS that policy allowed outright) is audited in one event when
 * it ends, which then carries the operation and the decision: nothing a read does needs to be on
 * the stream before it runs. Other operations are audited before they run (operation.intercepted
 * and operation.decided), and their outcome event leaves both fields out.
 */
const foldedOperationFields = {
  operation: OperationSchema.optional().describe(
    'Present when the operation was audited in this one event: the operation as decided on.',
  ),
  decision: DecisionRecordSchema.optional().describe(
    'Present when the operation was audited in this one event: what policy decided.',
  ),
};

export const OperationCompletedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.OperationCompleted),
    data: z.object({
      status: z.number().int().describe('Status the upstream answered, as passed to the agent.'),
      durationMs: z.number().nonnegative().describe('Milliseconds from receiving the request to the last byte sent.'),
      upstreamMs: z.number().nonnegative().describe('Milliseconds until the upstream answered.'),
      bytesOut: z.number().int().nonnegative().describe('Bytes of response body sent to the agent, after masking.'),
      masked: z
        .record(z.string(), z.number().int().nonnegative())
        .optional()
        .describe('How many values were masked in the response, per masking rule: counts only, never the values.'),
      ...foldedOperationFields,
    }),
  })
  .describe('An allowed operation was forwarded and its whole response reached the agent.');

export const OperationDeniedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.OperationDenied),
    data: z.object({
      reason: z.string().describe('The reason the agent received with its 403.'),
      ruleId: z.string().optional().describe('The rule that denied; absent when nothing allowed the operation.'),
      policyVersion: z.string().describe('Version of the policy that decided.'),
      approvalId: IdSchema.optional().describe('With review: the approval that was denied, expired or cancelled.'),
      approvalState: ApprovalStateSchema.optional().describe('With review: the state that refused the operation.'),
    }),
  })
  .describe(
    'Policy refused an operation (deny, or review that a person denied, let expire or that was cancelled); ' +
      'nothing reached the upstream.',
  );

export const OperationFailedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.OperationFailed),
    data: z.object({
      stage: FailureStageSchema.describe('Where the operation failed.'),
      reason: z.string().describe('The public message the agent received; never internal details.'),
      status: z
        .number()
        .int()
        .describe('HTTP status the agent received (for a response aborted midway, the upstream status).'),
      ...foldedOperationFields,
    }),
  })
  .describe('An operation could not be completed: refused while routing, a dependency unavailable, upstream failure.');

/* PostgreSQL sessions: one agent connection through the gateway, and the statements run in it. */

const StatementOperationSchema = PostgresOperationSchema.omit({ params: true }).describe(
  'The statement as it was decided on: text with literals replaced by $n, fingerprint, classification, ' +
    'number of bind parameters (never their values).',
);

/**
 * A read-only statement (class read, session or transaction, no risk) is audited in one event
 * when it ends, which then carries the operation and the decision: nothing it does needs to be
 * on the stream before it runs. Other statements are audited before they run
 * (operation.intercepted and operation.decided), and their outcome event leaves both fields out.
 */
const foldedFields = {
  operation: StatementOperationSchema.optional().describe(
    'Present when the statement was audited in this one event: the statement as decided on.',
  ),
  decision: DecisionRecordSchema.optional().describe(
    'Present when the statement was audited in this one event: what policy decided.',
  ),
};

export const SessionStartedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.SessionStarted),
    data: z.object({
      client: z.string().describe('Address and port the agent connected from.'),
      tls: z.boolean().describe('Whether the agent connection is encrypted.'),
      applicationName: z.string().max(64).optional().describe('application_name the client sent, if any.'),
      leaseId: IdSchema.optional().describe('The credential lease the upstream connection was opened with.'),
    }),
  })
  .describe('An authenticated agent opened a PostgreSQL session and the gateway connected it upstream.');

export const SessionEndedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.SessionEnded),
    data: z.object({
      reason: z
        .enum(['client', 'upstream', 'error', 'shutdown'])
        .describe(
          'client: the agent closed or terminated it; upstream: the server closed it; error: the gateway ' +
            'ended it after a protocol or dependency failure; shutdown: the gateway stopped.',
        ),
      durationMs: z.number().nonnegative().describe('Milliseconds from session start to end.'),
      statements: z.number().int().nonnegative().describe('Statements the agent sent in the session.'),
      denied: z.number().int().nonnegative().describe('Of those, how many were refused.'),
    }),
  })
  .describe('A PostgreSQL session ended.');

export const StatementCompletedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.StatementCompleted),
    data: z.object({
      command: z.string().max(64).describe('Command tag the server answered (SELECT, UPDATE, COPY, ...).'),
      rows: z.number().int().nonnegative().describe('Rows returned to the agent or affected, as the tag says.'),
      sqlstate: z
        .string()
        .regex(/^[0-9A-Z]{5}$/)
        .optional()
        .describe('When the server refused the statement: the SQLSTATE of its error.'),
      durationMs: z.number().nonnegative().describe('Milliseconds from the statement reaching the gateway to its end.'),
      upstreamMs: z
        .number()
        .nonnegative()
        .optional()
        .describe(
          "Milliseconds from the statement leaving the gateway for the server to the server's end of it reaching " +
            'the gateway; durationMs less this is the time the gateway added (decision, approval, masking).',
        ),
      rowsMasked: z.number().int().nonnegative().describe('Rows in which at least one value was masked.'),
      masked: z
        .record(z.string(), z.number().int().nonnegative())
        .optional()
        .describe('How many values were masked, per masking rule: counts only, never the values.'),
      statement: z
        .string()
        .max(16384)
        .optional()
        .describe('The statement text with its literals, only when policy allows keeping them.'),
      ...foldedFields,
    }),
  })
  .describe('An allowed PostgreSQL statement ran upstream and its result reached the agent.');

export const StatementFailedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.StatementFailed),
    data: z.object({
      stage: FailureStageSchema.describe('Where the statement failed.'),
      reason: z.string().describe('The public message the agent received; never internal details.'),
      sqlstate: z
        .string()
        .regex(/^[0-9A-Z]{5}$/)
        .describe('SQLSTATE of the ErrorResponse the agent received.'),
      ...foldedFields,
    }),
  })
  .describe('The gateway could not run a PostgreSQL statement: a dependency unavailable, unparsable, aborted.');

/* Human approval of operations that policy sent for review. */

export const OperationHeldEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.OperationHeld),
    data: z.object({
      approvalId: IdSchema.describe('The approval the operation waits for (see approval.changed).'),
      state: ApprovalStateSchema.describe(
        'The approval as the approval service answered: pending (a person must decide), or approved (an ' +
          'earlier approval of the same operation, or its grant window, lets it run).',
      ),
      reused: z.boolean().describe('True when a pending approval of the same operation was reused.'),
      expiresAt: IsoTimeSchema.describe('When the approval expires if nobody decides.'),
      grantUntil: IsoTimeSchema.optional().describe('With approved under a grant window: until when it holds.'),
    }),
  })
  .describe(
    'Policy said review: the ingress holds the operation for an approval. Its outcome follows as for any ' +
      'operation; an HTTP operation answered 202 (still pending when the agent stopped waiting) ends here.',
  );

export const ApprovalActionSchema = z
  .enum(['request', 'approve', 'deny', 'expire', 'cancel', 'use'])
  .describe(
    'request: created for a held operation; approve: one approver said yes (state changes once enough did); ' +
      'deny: an approver said no; expire: nobody decided in time; cancel: the requester gave up; use: a ' +
      'one-time approval let its operation run.',
  );

export const ApprovalChangedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.ApprovalChanged),
    data: z.object({
      approvalId: IdSchema.describe('The approval.'),
      action: ApprovalActionSchema,
      from: ApprovalStateSchema.nullable().describe('State before the action; null when it was created.'),
      to: ApprovalStateSchema.describe('State after the action.'),
      approvals: z.number().int().nonnegative().describe('Distinct approvers who said yes so far.'),
      required: z.number().int().min(1).describe('Approvals needed (N of M).'),
      reason: z
        .string()
        .max(2000)
        .describe("Why: policy's reason when requested, the approver's comment or the rule that applied otherwise."),
      via: z
        .enum(['kafka', 'api', 'link', 'expiry'])
        .describe(
          'kafka: the ingress asked or cancelled; api: an approver used the REST API; link: an approver used a ' +
            'signed link from a notification; expiry: the expiry job or a read past its time.',
        ),
      expiresAt: IsoTimeSchema.describe('When the approval expires (or expired) if nobody decides.'),
      grantUntil: IsoTimeSchema.optional().describe('Once approved with a grant window: until when it holds.'),
    }),
  })
  .describe(
    'An approval was created or changed. actor is who acted: the requesting agent, an approver, or null ' +
      'for expiry; sessionId and requestId are those of the held operation.',
  );

export const ApprovalNotifiedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.ApprovalNotified),
    data: z.object({
      approvalId: IdSchema.describe('The approval the notification is about.'),
      channel: z.enum(['slack', 'email']).describe('Where the notification went.'),
      outcome: z
        .enum(['delivered', 'failed'])
        .describe('delivered: accepted by the channel; failed: given up (a permanent refusal or retries spent).'),
      attempts: z.number().int().min(1).describe('Attempts made, the last one included.'),
      reason: z.string().max(500).optional().describe('With failed: why, as the channel answered.'),
    }),
  })
  .describe('A notification to approvers was delivered or given up.');

/* Vault administration. `actor` is the administrator; the connection is the one acted on. */

export const VaultConnectionCreatedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.VaultConnectionCreated),
    data: z.object({
      protocol: ProtocolSchema.describe('Protocol of the new connection.'),
      upstream: z.string().describe('Where the connection leads (never with credentials in it).'),
      credentialKind: z.string().describe('Kind of credential the connection takes (bearer, basic, aws-sigv4, ...).'),
    }),
  })
  .describe('An administrator created a credentialed connection in the vault.');

export const VaultSecretSetEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.VaultSecretSet),
    data: z.object({
      secretVersion: z.number().int().positive().describe('Version number of the stored secret.'),
      keyId: z.string().describe('Id of the key-encryption key that protects it.'),
      rotation: z.boolean().describe('False for the first secret of a connection, true when it replaces one.'),
    }),
  })
  .describe('An administrator stored a new secret version of a connection. The secret itself is never audited.');

export const VaultLeaseIssuedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.VaultLeaseIssued),
    data: z.object({
      leaseId: IdSchema.describe('Id of the lease.'),
      secretVersion: z.number().int().positive().describe('Version of the secret leased.'),
      ingressInstance: z.string().describe('The ingress instance the secret was sealed to.'),
      expiresAt: IsoTimeSchema.describe('When the lease expires.'),
    }),
  })
  .describe("The vault leased a connection's secret to an ingress instance, sealed to that instance's key.");

export const VaultKeyRewrappedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.VaultKeyRewrapped),
    data: z.object({
      fromKeyId: z.string().describe('The key-encryption key the data keys were wrapped with.'),
      toKeyId: z.string().describe('The key-encryption key they are wrapped with now.'),
      records: z.number().int().nonnegative().describe('How many data keys were rewrapped.'),
    }),
  })
  .describe('The offline rewrap command moved data keys from one key-encryption key to another.');

export const MessageRejectedEventSchema = z
  .object({
    ...envelope,
    type: eventType(AuditEventTypes.MessageRejected),
    data: z.object({
      topic: z.string().describe('The Kafka topic the refused message came on.'),
      reason: z
        .string()
        .describe(
          'Why it was refused: not signed, signed by a service that may not sign there, an untrusted key, a signature that does not verify.',
        ),
      signer: z.string().optional().describe('The service the message claimed to be signed by, if any.'),
      keyId: z.string().optional().describe('The key id the signature named, if any.'),
    }),
  })
  .describe(
    'A service refused a Kafka message that decides something (a policy decision, an approval answer or decision, a ' +
      'lease request or reply) because its signature was missing or did not verify: someone with access to Kafka ' +
      'wrote it. The operation it belonged to failed closed. sessionId and requestId are those of the operation when ' +
      'known; protocol is http when not.',
  );

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
  SessionStartedEventSchema,
  SessionEndedEventSchema,
  StatementCompletedEventSchema,
  StatementFailedEventSchema,
  OperationHeldEventSchema,
  ApprovalChangedEventSchema,
  ApprovalNotifiedEventSchema,
  MessageRejectedEventSchema,
]);
export type AuditEvent = z.infer<typeof AuditEventSchema>;
export type AuditEventType = AuditEvent['type'];
export type AuditEventOf<T extends AuditEventType> = Extract<AuditEvent, { type: T }>;
/** What a producer fills in; the envelope's id, version and time are added when it is emitted. */
export type AuditEventDraft<T extends AuditEventType = AuditEventType> = T extends AuditEventType
  ? Omit<AuditEventOf<T>, 'id' | 'schemaVersion' | 'time'>
  : never;
