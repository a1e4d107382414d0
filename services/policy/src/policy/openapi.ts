import { jsonResponse, openApiSelfPath, schemaRef, type OpenApiJson } from '@airlock/runtime';

/**
 * The OpenAPI 3.1 description of the policy service's admin API, written by hand (the request
 * bodies are checked by the zod schemas in dto/admin.dto.ts; keep the two in step).
 */

const error: OpenApiJson = {
  type: 'object',
  required: ['message'],
  properties: {
    error: { type: 'string', description: 'Stable code: bad_request, unauthorized, forbidden, invalid_policy, ...' },
    code: {
      type: 'string',
      description: '401 only: why the token was refused (missing, expired, not_configured, ...).',
    },
    message: { type: 'string', description: 'What went wrong, for a person.' },
  },
};
const ref = schemaRef;
const json = jsonResponse;
const refusals: OpenApiJson = {
  '401': json('No valid bearer token, or the service trusts no issuer (code not_configured).', ref('Error')),
  '403': json('The caller is not in the policy admin group (POLICY_ADMIN_GROUPS).', ref('Error')),
};

export function openApiDocument(): OpenApiJson {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Airlock policy service: admin API',
      version: '1',
      description:
        'Reads, checks and tries out the policy in force. GET /policy and POST /policy/reload take no token ' +
        '(loopback or a protected network); the other routes need a policy administrator token.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: error,
        Summary: {
          type: 'object',
          required: ['id', 'version', 'rules'],
          properties: { id: { type: 'string' }, version: { type: 'string' }, rules: { type: 'integer' } },
        },
        Principal: {
          type: 'object',
          required: ['subject'],
          additionalProperties: false,
          properties: {
            issuer: { type: 'string', description: 'The token issuer; "dry-run" when absent.' },
            subject: { type: 'string' },
            groups: { type: 'array', items: { type: 'string' }, description: 'Default: none.' },
          },
        },
        DryRunRequest: {
          type: 'object',
          required: ['principal', 'connection'],
          additionalProperties: false,
          description: 'Exactly one of sql and http.',
          properties: {
            principal: ref('Principal'),
            connection: { type: 'string' },
            sql: {
              type: 'string',
              description: 'A PostgreSQL statement (or several), classified by the PostgreSQL parser.',
            },
            params: {
              type: 'array',
              items: { type: ['string', 'null'] },
              description: 'Bind parameter values, $1 first.',
            },
            searchPath: {
              type: 'array',
              items: { type: 'string' },
              description: "The session's search_path; default [public].",
            },
            http: {
              type: 'object',
              required: ['method', 'path'],
              additionalProperties: false,
              properties: {
                method: { type: 'string' },
                path: { type: 'string', description: 'The canonical path the upstream receives; judged as given.' },
                query: { type: 'string', description: 'The query string without "?", e.g. a=1&b.' },
                headers: { type: 'object', additionalProperties: { type: 'string' } },
              },
            },
          },
        },
        DryRunAnswer: {
          type: 'object',
          required: ['policy', 'decision', 'reason', 'ruleId', 'masking', 'approval', 'operation', 'principal'],
          properties: {
            policy: { type: 'object', properties: { id: { type: 'string' }, version: { type: 'string' } } },
            decision: { enum: ['allow', 'deny', 'review'] },
            reason: { type: 'string' },
            ruleId: {
              type: ['string', 'null'],
              description: 'The deciding rule; null when the default (deny) applied.',
            },
            masking: { type: 'array', items: { type: 'string' } },
            approval: {
              type: ['object', 'null'],
              description: 'With review: who approves, how many, expiry and grant window.',
            },
            operation: {
              type: 'object',
              description: 'What policy judged: the classified statement or the HTTP operation.',
            },
            principal: ref('Principal'),
          },
        },
      },
    },
    paths: {
      '/policy': {
        get: {
          operationId: 'policySummary',
          summary: 'The policy in force: id, version, number of rules',
          security: [],
          responses: { '200': json('The summary.', ref('Summary')) },
        },
      },
      '/policy/reload': {
        post: {
          operationId: 'reloadPolicy',
          summary: 'Re-reads the policy file; a file that cannot be used changes nothing',
          security: [],
          responses: {
            '200': json('Reloaded (changed: false when the version is the same).', {
              allOf: [ref('Summary'), { type: 'object', properties: { changed: { type: 'boolean' } } }],
            }),
            '422': json('The file was refused, every problem named; the policy in force is unchanged.', ref('Error')),
          },
        },
      },
      '/policy/document': {
        get: {
          operationId: 'policyDocument',
          summary: 'The policy in force with its rules, as parsed (defaults filled in)',
          security: [{ bearer: [] }],
          responses: {
            '200': json('The document: id, version and rules (docs/policy-http.md, docs/policy-sql.md).', {
              type: 'object',
              properties: { id: { type: 'string' }, version: { type: 'string' }, rules: { type: 'array' } },
            }),
            ...refusals,
          },
        },
      },
      '/policy/validate': {
        post: {
          operationId: 'validatePolicy',
          summary: 'Checks a policy document; nothing is applied',
          security: [{ bearer: [] }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['document'],
                  properties: { document: { type: 'string', description: 'YAML text, at most 1 MiB.' } },
                },
              },
            },
          },
          responses: {
            '200': json('valid: true with the summary, or valid: false with one sentence per problem.', {
              oneOf: [
                { allOf: [ref('Summary'), { type: 'object', properties: { valid: { const: true } } }] },
                {
                  type: 'object',
                  required: ['valid', 'errors'],
                  properties: { valid: { const: false }, errors: { type: 'array', items: { type: 'string' } } },
                },
              ],
            }),
            '400': json('No document, or too long.', ref('Error')),
            ...refusals,
          },
        },
      },
      '/policy/dry-run': {
        post: {
          operationId: 'dryRun',
          summary: 'What the policy in force decides for a principal, connection and statement or request',
          description: 'Answered with the evaluation that decides live operations; nothing is sent, held or audited.',
          security: [{ bearer: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: ref('DryRunRequest') } } },
          responses: {
            '200': json('The decision.', ref('DryRunAnswer')),
            '400': json('A field is malformed; the message names it.', ref('Error')),
            ...refusals,
          },
        },
      },
      '/policy/openapi.json': openApiSelfPath(),
    },
  };
}
