import { z } from 'zod';
import { FailureStageSchema } from './audit';
import { AuditProtocolSchema, DecisionSchema } from './common';
import { AUDIT_JSON_SCHEMA_BASE } from './json-schema';

/*
 * What the recorder's replay and search API answers (GET /audit/sessions, /audit/sessions/:id,
 * its events and the export). The recorder's types and OpenAPI document come from these schemas,
 * and the CLI and the console read its answers as these types: none of them can drift apart.
 */

const count = z.number().int().nonnegative();

export const SessionSummarySchema = z
  .object({
    sessionId: z.string().describe('The session id.'),
    principal: z
      .object({ issuer: z.string(), subject: z.string() })
      .nullable()
      .describe("The session's principal: the actor of its first authenticated event; null when it has none."),
    connection: z.string().nullable().describe('The connection of its first event that names one.'),
    protocol: AuditProtocolSchema.describe('The protocol of its first event.'),
    startedAt: z.string().describe('Time of its first event (RFC 3339).'),
    endedAt: z.string().describe('Time of its last event so far (RFC 3339).'),
    events: count.describe('Events of the session stored so far.'),
    operations: count.describe(
      'Operations the session asked for: its operation.intercepted events, and the outcome events that audit an operation on their own.',
    ),
    decisions: z
      .object({ allow: count, deny: count, review: count, approved: count })
      .describe(
        'How often policy decided each way (operation.decided events, and the decisions outcome events carry; review: held for approval), and how many approvals were granted (approval.changed to approved).',
      ),
    masked: count.describe('Values masked in its responses, all masking rules together.'),
  })
  .describe('One session, as summarised by the recorder while it stores its events.');
export type SessionSummary = z.infer<typeof SessionSummarySchema>;

export const SessionPageSchema = z
  .object({
    items: z.array(SessionSummarySchema).describe('Newest session first (by startedAt, then session id).'),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .describe('A page of sessions.');
export type SessionPage = z.infer<typeof SessionPageSchema>;

export const OperationSummarySchema = z
  .object({
    method: z.string().optional().describe('operation.intercepted: the HTTP method asked for.'),
    path: z.string().optional().describe('operation.intercepted: the path asked for.'),
    sql: z
      .string()
      .optional()
      .describe(
        'operation.intercepted, statement.completed (PostgreSQL): the statement text with literals replaced by placeholders.',
      ),
    command: z.string().optional().describe('statement.completed: the command tag the server answered.'),
    rows: count.optional().describe('statement.completed: rows returned or affected.'),
    rowsMasked: count.optional().describe('statement.completed: rows in which a value was masked.'),
    sqlstate: z.string().optional().describe('statement.completed, .failed: SQLSTATE of the error, if any.'),
    decision: DecisionSchema.optional().describe(
      'operation.decided (and statement.completed of a read-only statement): what policy decided.',
    ),
    reason: z.string().optional().describe('operation.decided, .denied, .failed: why.'),
    ruleId: z.string().optional().describe('operation.decided, .denied: the deciding rule.'),
    maskingRules: z.array(z.string()).optional().describe('operation.decided: masking rules applied to the response.'),
    status: z.number().int().optional().describe('operation.completed, .failed: the HTTP status the agent received.'),
    durationMs: z
      .number()
      .optional()
      .describe('operation.completed, statement.completed: milliseconds until the last byte was sent.'),
    upstreamMs: z.number().optional().describe('operation.completed: milliseconds until the upstream answered.'),
    bytesOut: z.number().int().optional().describe('operation.completed: response bytes sent to the agent.'),
    masked: z
      .record(z.string(), count)
      .optional()
      .describe('operation.completed, statement.completed: values masked, per masking rule (counts only).'),
    maskedTotal: count
      .optional()
      .describe('operation.completed, statement.completed: values masked, all rules together.'),
    stage: FailureStageSchema.optional().describe('operation.failed, statement.failed: where it failed.'),
  })
  .describe('The gist of an operation event, from its own data.');
export type OperationSummary = z.infer<typeof OperationSummarySchema>;

/** The fields of a stored event, as the events page and the export give them. */
const stored = {
  chain: z.number().int().nonnegative().describe('The hash chain: the partition of airlock.audit the event came on.'),
  seq: z.number().int().positive().describe('Position of the event in its chain.'),
  prevHash: z.string().describe('Hash of the previous event in the chain (hex).'),
  hash: z.string().describe('Hash of this event, linked to prevHash (hex).'),
  event: z
    .record(z.string(), z.unknown())
    .describe(`The audit event as received; its schema is published as ${AUDIT_JSON_SCHEMA_BASE}audit-event.json.`),
};

export const StoredEventSchema = z
  .object(stored)
  .describe('One stored audit event with its place in the hash chain: one line of the NDJSON export.');
export type StoredEvent = z.infer<typeof StoredEventSchema>;

export const ReplayedEventSchema = z
  .object({
    ...stored,
    summary: OperationSummarySchema.nullable().describe('For operation.* events; null for the others.'),
  })
  .describe('One stored audit event of a session.');
export type ReplayedEvent = z.infer<typeof ReplayedEventSchema>;

export const EventPageSchema = z
  .object({
    sessionId: z.string(),
    items: z.array(ReplayedEventSchema).describe('In the order they were recorded (by seq).'),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .describe("A page of one session's events.");
export type EventPage = z.infer<typeof EventPageSchema>;
