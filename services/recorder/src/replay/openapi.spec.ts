import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OpenApiController } from './openapi.controller';
import { openApiDocument } from './openapi';
import { ReplayController } from './replay.controller';

type Json = Record<string, unknown>;
type Operation = { parameters?: { name: string; in: string; required: boolean; schema: Json }[]; security?: unknown[] };

const doc = openApiDocument() as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Json };
  security: unknown[];
};

/** Every route a controller serves, as OpenAPI writes paths: `GET /audit/sessions/{sessionId}/events`. */
function routes(controller: new (...args: never[]) => object): string[] {
  const base = Reflect.getMetadata(PATH_METADATA, controller) as string;
  return Object.getOwnPropertyNames(controller.prototype)
    .filter((name) => name !== 'constructor')
    .map((name) => (controller.prototype as Record<string, unknown>)[name] as object)
    .filter((handler) => Reflect.getMetadata(PATH_METADATA, handler) !== undefined)
    .map((handler) => {
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const path = `/${base}/${Reflect.getMetadata(PATH_METADATA, handler) as string}`.replace(/:(\w+)/g, '{$1}');
      return `${method} ${path}`;
    });
}

function validator() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  // The document is the schemas' container: `components` is where their references point.
  ajv.addKeyword({ keyword: 'components' });
  ajv.addSchema({ $id: 'https://airlock.test/openapi.json', components: doc.components });
  return (name: string) => ajv.compile({ $ref: `https://airlock.test/openapi.json#/components/schemas/${name}` });
}

describe('the OpenAPI document of the audit API', () => {
  it('is OpenAPI 3.1 with bearer authentication required by default', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/audit/openapi.json'].get.security).toEqual([]);
  });

  it('describes every route the replay controllers serve, and the verify route', () => {
    const described = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(described.sort()).toEqual(
      [...routes(ReplayController), ...routes(OpenApiController), 'GET /audit/verify'].sort(),
    );
  });

  it('names the query parameters the query schemas take, with their bounds', () => {
    const params = (path: string) => doc.paths[path].get.parameters ?? [];
    expect(params('/audit/sessions').map((p) => p.name)).toEqual([
      'principal',
      'issuer',
      'connection',
      'protocol',
      'from',
      'to',
      'decision',
      'hasMasking',
      'limit',
      'cursor',
    ]);
    expect(params('/audit/sessions').find((p) => p.name === 'limit')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    });
    expect(params('/audit/sessions').find((p) => p.name === 'decision')?.schema).toMatchObject({
      enum: ['allow', 'deny', 'review', 'approved'],
    });
    expect(params('/audit/sessions/{sessionId}/events')[0]).toMatchObject({
      name: 'sessionId',
      in: 'path',
      required: true,
      schema: { type: 'string', format: 'uuid' },
    });
    expect(params('/audit/export').map((p) => p.name)).toEqual(['from', 'to']);
  });

  it('has response schemas that compile, refer to each other by name, and hold real answers', () => {
    const compile = validator();
    for (const name of Object.keys(doc.components.schemas)) expect(() => compile(name)).not.toThrow();
    const page = compile('SessionPage');
    const session = {
      sessionId: '019abcde-0000-7000-8000-00000000000a',
      principal: { issuer: 'https://idp', subject: 'agent' },
      connection: 'demo',
      protocol: 'http',
      startedAt: '2026-11-25T10:59:59.000Z',
      endedAt: '2026-11-25T10:59:59.500Z',
      events: 6,
      operations: 2,
      decisions: { allow: 1, deny: 1, review: 0, approved: 0 },
      masked: 3,
    };
    expect(page({ items: [session], nextCursor: null })).toBe(true);
    expect(page({ items: [{ ...session, events: -1 }], nextCursor: null })).toBe(false);
    const events = compile('EventPage');
    const item = { chain: 0, seq: 1, prevHash: '00', hash: 'ff', event: { type: 'operation.denied' }, summary: null };
    expect(events({ sessionId: session.sessionId, items: [item], nextCursor: 'abc' })).toBe(true);
    expect(
      events({ sessionId: session.sessionId, items: [{ ...item, summary: { decision: 'maybe' } }], nextCursor: null }),
    ).toBe(false);
    expect(JSON.stringify(doc.components.schemas.EventPage)).toContain('#/components/schemas/ReplayedEvent');
  });

  it('is served as it is built', () => {
    expect(new OpenApiController().openApi()).toEqual(openApiDocument());
  });
});
