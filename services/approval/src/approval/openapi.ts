import { Controller, Get } from '@nestjs/common';
import { jsonResponse, openApiSelfPath, schemaRef, type OpenApiJson } from '@airlock/runtime';

/**
 * The OpenAPI 3.1 description of the approvers' API, written by hand (bodies and queries are
 * checked by dto/approval.dto.ts; keep the two in step).
 */

const ref = schemaRef;
const json = jsonResponse;
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const actor: OpenApiJson = {
  type: 'object',
  properties: { issuer: { type: 'string' }, subject: { type: 'string' } },
};
const vote: OpenApiJson = {
  type: 'object',
  properties: {
    approver: actor,
    at: { type: 'string' },
    comment: { type: ['string', 'null'] },
    via: { enum: ['api', 'link'] },
  },
};
const states = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'used'];
const decision = (verb: string): OpenApiJson => ({
  post: {
    operationId: `${verb}Approval`,
    parameters: [id],
    requestBody: {
      required: false,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            additionalProperties: false,
            properties: { comment: { type: 'string', maxLength: 2000 } },
          },
        },
      },
    },
    responses: {
      '200': json('The approval after the vote.', ref('Approval')),
      '401': json('No valid bearer token.', ref('Error')),
      '403': json(
        'Not in its approver groups, or the caller is the requester: "the requester cannot approve its own request".',
        ref('Error'),
      ),
      '404': json('No such approval.', ref('Error')),
      '409': json('Not pending any more, or this approver has voted.', ref('Error')),
    },
  },
});

export function approvalOpenApiDocument(): OpenApiJson {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Airlock approval service: approvers API',
      version: '1',
      description:
        'Held operations and their approval. Every route needs a token; what it may see and decide depends on ' +
        'its approver groups (APPROVAL_APPROVER_GROUPS) and the admin group (APPROVAL_ADMIN_GROUPS). No push ' +
        'stream: poll GET /approvals to keep a list current.',
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object',
          properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
        },
        Approval: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            state: { enum: states, description: 'As of now: a pending approval past its time shows as expired.' },
            url: { type: 'string' },
            principal: {
              type: 'object',
              description: 'Who asked.',
              properties: {
                issuer: { type: 'string' },
                subject: { type: 'string' },
                groups: { type: 'array', items: { type: 'string' } },
              },
            },
            connection: { type: 'string' },
            protocol: { enum: ['http', 'postgres'] },
            detail: {
              type: 'string',
              description:
                'The whole operation: SQL text then its bind parameters ($1 = ...), or the HTTP request line, allowlisted ' +
                'headers and body; invisible characters shown as \\uXXXX escapes.',
            },
            ruleId: { type: ['string', 'null'] },
            reason: { type: 'string' },
            approverGroups: { type: 'array', items: { type: 'string' } },
            required: { type: 'integer', description: 'Distinct approvals needed.' },
            grantSeconds: { type: 'integer', description: '0: one use; otherwise the grant window once approved.' },
            approvals: { type: 'array', items: vote, description: 'Yes votes so far.' },
            denial: { oneOf: [vote, { type: 'null' }] },
            sessionId: { type: 'string' },
            requestId: { type: 'string' },
            createdAt: { type: 'string' },
            expiresAt: { type: 'string' },
            grantUntil: { type: ['string', 'null'] },
            decidedAt: { type: ['string', 'null'] },
            usedAt: { type: ['string', 'null'] },
          },
        },
      },
    },
    paths: {
      '/approvals': {
        get: {
          operationId: 'listApprovals',
          parameters: [{ name: 'state', in: 'query', required: false, schema: { enum: states, default: 'pending' } }],
          responses: {
            '200': json('Those the caller may decide (administrators: all), newest first, at most 200.', {
              type: 'object',
              properties: { approvals: { type: 'array', items: ref('Approval') } },
            }),
            '400': json('Unknown state.', ref('Error')),
            '401': json('No valid bearer token.', ref('Error')),
          },
        },
      },
      '/approvals/{id}': {
        get: {
          operationId: 'getApproval',
          parameters: [id],
          responses: {
            '200': json('The approval.', ref('Approval')),
            '401': json('No valid bearer token.', ref('Error')),
            '403': json('Neither one of its approvers nor an administrator.', ref('Error')),
            '404': json('No such approval.', ref('Error')),
          },
        },
      },
      '/approvals/{id}/approve': decision('approve'),
      '/approvals/{id}/deny': decision('deny'),
      '/approvals/openapi.json': openApiSelfPath(),
    },
  };
}

/** Public, like any API description: it holds no approval. */
@Controller('approvals')
export class ApprovalOpenApiController {
  private readonly document = approvalOpenApiDocument();

  @Get('openapi.json')
  openApi(): OpenApiJson {
    return this.document;
  }
}
