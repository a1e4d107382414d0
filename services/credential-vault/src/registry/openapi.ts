import { Controller, Get } from '@nestjs/common';
import { jsonResponse, openApiSelfPath, schemaRef, type OpenApiJson } from '@airlock/runtime';

/**
 * The OpenAPI 3.1 description of the vault's admin API, written by hand (the bodies are checked
 * by the zod schemas in dto/; keep the two in step). Secrets go in and never come out: no
 * response schema has a secret field.
 */

const ref = schemaRef;
const json = jsonResponse;
const actor: OpenApiJson = {
  type: 'object',
  required: ['issuer', 'subject'],
  properties: { issuer: { type: 'string' }, subject: { type: 'string' } },
};
const refusals: OpenApiJson = {
  '400': json('The body or a parameter is malformed; the message names the field, never its value.', ref('Error')),
  '401': json('No valid bearer token.', ref('Error')),
  '403': json('The caller is not in the vault admin group (VAULT_ADMIN_GROUPS).', ref('Error')),
  '503': json('The change was not made: its audit event could not be published.', ref('Error')),
};

export function vaultOpenApiDocument(): OpenApiJson {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Airlock credential vault: admin API',
      version: '1',
      description: 'Connections and their write-only secrets. Every route needs a vault administrator token.',
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object',
          properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
        },
        Connection: {
          type: 'object',
          required: ['name', 'protocol', 'upstream', 'credentialKind', 'agentCredentialHeaders', 'secretVersion'],
          properties: {
            name: { type: 'string' },
            protocol: { enum: ['http', 'postgres'] },
            upstream: { type: 'string', description: 'Never with credentials.' },
            credentialKind: { enum: ['bearer', 'header', 'basic', 'aws-sigv4', 'postgres-password'] },
            agentCredentialHeaders: { type: 'array', items: { type: 'string' } },
            secretVersion: {
              type: ['integer', 'null'],
              description: 'The current secret version; null until one is set.',
            },
            secretSetAt: {
              type: ['string', 'null'],
              description: 'When the current version was set: the last rotation.',
            },
            secretSetBy: { oneOf: [actor, { type: 'null' }], description: 'Who set it.' },
            createdAt: { type: 'string' },
            createdBy: actor,
          },
        },
        NewConnection: {
          type: 'object',
          required: ['name', 'protocol', 'upstream', 'credentialKind'],
          additionalProperties: false,
          properties: {
            name: { type: 'string' },
            protocol: { enum: ['http', 'postgres'] },
            upstream: { type: 'string' },
            credentialKind: { enum: ['bearer', 'header', 'basic', 'aws-sigv4', 'postgres-password'] },
            agentCredentialHeaders: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
    paths: {
      '/connections': {
        get: {
          operationId: 'listConnections',
          responses: {
            '200': json('Every connection.', {
              type: 'object',
              properties: { connections: { type: 'array', items: ref('Connection') } },
            }),
            ...refusals,
          },
        },
        post: {
          operationId: 'createConnection',
          requestBody: { required: true, content: { 'application/json': { schema: ref('NewConnection') } } },
          responses: {
            '201': json('Created.', ref('Connection')),
            '409': json('A connection of that name exists.', ref('Error')),
            ...refusals,
          },
        },
      },
      '/connections/{name}': {
        get: {
          operationId: 'getConnection',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': json('The connection.', ref('Connection')),
            '404': json('No such connection.', ref('Error')),
            ...refusals,
          },
        },
      },
      '/connections/{name}/secret': {
        put: {
          operationId: 'setSecret',
          summary: 'Stores a new version of the secret (a rotation); it is never returned',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            required: true,
            description:
              "The fields of the connection's credential kind: bearer {token}; header {header, value}; basic " +
              '{username, password}; aws-sigv4 {accessKeyId, secretAccessKey, region, service?}; postgres-password {username, password}.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          responses: {
            '200': json('Stored.', {
              type: 'object',
              properties: { connection: { type: 'string' }, secretVersion: { type: 'integer' } },
            }),
            '404': json('No such connection.', ref('Error')),
            ...refusals,
          },
        },
      },
      '/connections/openapi.json': openApiSelfPath(),
    },
  };
}

/** Public, like any API description: it holds no connection data. */
@Controller('connections')
export class VaultOpenApiController {
  private readonly document = vaultOpenApiDocument();

  @Get('openapi.json')
  openApi(): OpenApiJson {
    return this.document;
  }
}
