import { z } from 'zod';
import {
  ExportQuerySchema,
  SessionEventsQuerySchema,
  SessionIdSchema,
  SessionsQuerySchema,
} from './dto/replay-query.dto';
import {
  EventPageSchema,
  OperationSummarySchema,
  ReplayedEventSchema,
  SessionPageSchema,
  SessionSummarySchema,
  StoredEventSchema,
} from '@airlock/contracts';
import { ErrorBodySchema } from './dto/replay-views.dto';

type JsonSchema = z.core.JSONSchema.BaseSchema;
type Json = Record<string, unknown>;

const JSON_SCHEMA = { target: 'draft-2020-12', unrepresentable: 'throw', cycles: 'throw' } as const;

/** The response schemas, each a component that the others and the operations refer to by name. */
function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  const named: Record<string, z.ZodType> = {
    ErrorBody: ErrorBodySchema,
    SessionSummary: SessionSummarySchema,
    SessionPage: SessionPageSchema,
    OperationSummary: OperationSummarySchema,
    ReplayedEvent: ReplayedEventSchema,
    EventPage: EventPageSchema,
    StoredEvent: StoredEventSchema,
  };
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  // The input side: objects stay open, so fields added later do not break a validating client.
  const { schemas } = z.toJSONSchema(registry, {
    ...JSON_SCHEMA,
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const components: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    components[id] = rest;
  }
  return components;
}

/** A parameter's schema and description, from the zod schema of its query string or path. */
function parameter(name: string, where: 'query' | 'path', schema: z.ZodType, required: boolean): Json {
  const { $schema: _dialect, description, ...rest } = z.toJSONSchema(schema, { ...JSON_SCHEMA, io: 'input' });
  return { name, in: where, required, ...(description ? { description } : {}), schema: rest };
}

function queryParameters(schema: z.ZodObject): Json[] {
  return Object.entries(schema.shape).map(([name, field]) =>
    parameter(name, 'query', field as z.ZodType, !(field as z.ZodType).isOptional()),
  );
}

const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });
const json = (description: string, id: string): Json => ({
  description,
  content: { 'application/json': { schema: ref(id) } },
});
const refusals: Json = {
  '400': json('A parameter is malformed or out of range; the message names it.', 'ErrorBody'),
  '401': json('No valid bearer token.', 'ErrorBody'),
  '403': json('The caller is not in the auditor group.', 'ErrorBody'),
  '503': json('The audit store or the token issuer did not answer.', 'ErrorBody'),
};

/**
 * The OpenAPI 3.1 description of the recorder's audit API. Its schemas are generated from the
 * same zod schemas that check the queries and type the answers.
 */
export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Airlock recorder: audit replay, search and verification',
      version: '1',
      description:
        'Read access to the audit trail that the recorder stores. Every operation except this document needs ' +
        'a bearer token (an OIDC JWT of a trusted issuer) whose groups include the auditor group. Refused ' +
        'calls are themselves audited (auth.failed).',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: componentSchemas(),
    },
    security: [{ bearer: [] }],
    paths: {
      '/audit/sessions': {
        get: {
          operationId: 'listSessions',
          summary: 'Sessions that started in a time range, newest first, filtered (read from per-session summaries)',
          parameters: queryParameters(SessionsQuerySchema),
          responses: { '200': json('A page of sessions.', 'SessionPage'), ...refusals },
        },
      },
      '/audit/sessions/{sessionId}': {
        get: {
          operationId: 'session',
          summary: "One session's summary",
          parameters: [parameter('sessionId', 'path', SessionIdSchema, true)],
          responses: {
            '200': json("The session's summary.", 'SessionSummary'),
            ...refusals,
            '404': json('No such session is stored.', 'ErrorBody'),
          },
        },
      },
      '/audit/sessions/{sessionId}/events': {
        get: {
          operationId: 'sessionEvents',
          summary: "A session's events in recorded order",
          parameters: [
            parameter('sessionId', 'path', SessionIdSchema, true),
            ...queryParameters(SessionEventsQuerySchema),
          ],
          responses: {
            '200': json("A page of the session's events.", 'EventPage'),
            ...refusals,
            '404': json('No event of this session is stored.', 'ErrorBody'),
          },
        },
      },
      '/audit/export': {
        get: {
          operationId: 'exportEvents',
          summary: 'Every event of a time range as NDJSON, in chain order',
          description:
            'One stored event per line, ordered by chain, then position in the chain, streamed. A stream that ' +
            'ends without its last newline was cut short: the export is incomplete.',
          parameters: queryParameters(ExportQuerySchema),
          responses: {
            '200': {
              description: 'One StoredEvent per line.',
              content: { 'application/x-ndjson': { schema: ref('StoredEvent') } },
            },
            ...refusals,
          },
        },
      },
      '/audit/verify': {
        get: {
          operationId: 'verifyChains',
          summary: 'Verifies the hash chains against their signed checkpoints',
          parameters: [
            {
              name: 'chain',
              in: 'query',
              required: false,
              description: 'Only this chain (a partition of airlock.audit); every chain when absent.',
              schema: { type: 'integer', minimum: 0 },
            },
          ],
          responses: {
            '200': {
              description: 'The verification report, with the dead letters: messages of airlock.audit not stored.',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            ...refusals,
          },
        },
      },
      '/audit/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          security: [],
          responses: {
            '200': {
              description: 'The OpenAPI 3.1 document.',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
          },
        },
      },
    },
  };
}
