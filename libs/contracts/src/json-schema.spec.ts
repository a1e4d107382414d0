import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import {
  AUDIT_INDEX_SCHEMA_FILE,
  AUDIT_JSON_SCHEMA_BASE,
  AUDIT_SCHEMA_VERSION,
  AuditEventSchema,
  AuditEventTypes,
  auditJsonSchemaFile,
  auditJsonSchemas,
  formatJson,
  uuidv7,
  type AuditEvent,
  type AuditEventDraft,
} from './index';
import { sampleAuditDrafts as drafts } from './audit-samples.test-helper';

const dir = join(__dirname, '..', 'json-schema', 'audit', `v${AUDIT_SCHEMA_VERSION}`);
const committed = new Map(
  readdirSync(dir)
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
);

/** What a consumer reads off `airlock.audit`: the envelope completed as the publisher does, as JSON. */
function published(draft: AuditEventDraft): Record<string, unknown> {
  const now = Date.now();
  const event: AuditEvent = AuditEventSchema.parse({
    ...draft,
    id: uuidv7(now),
    schemaVersion: AUDIT_SCHEMA_VERSION,
    time: new Date(now).toISOString(),
  });
  return JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
}

function compileCommitted(): { byType: Map<string, ValidateFunction>; index: ValidateFunction } {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const byType = new Map<string, ValidateFunction>();
  let index: ValidateFunction | undefined;
  for (const [file, text] of committed) {
    const validate = ajv.compile(JSON.parse(text) as object);
    if (file === AUDIT_INDEX_SCHEMA_FILE) index = validate;
    else byType.set(file.replace(/\.schema\.json$/, ''), validate);
  }
  return { byType, index: index! };
}

/** Every object inside a schema, however deep. */
function* objectsIn(value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) for (const v of value) yield* objectsIn(v);
  else if (value !== null && typeof value === 'object') {
    yield value as Record<string, unknown>;
    for (const v of Object.values(value)) yield* objectsIn(v);
  }
}

describe('the published JSON Schema of the audit stream', () => {
  it('is committed exactly as the generator writes it', () => {
    const generated = auditJsonSchemas();
    expect([...committed.keys()].sort()).toEqual(Object.keys(generated).sort());
    for (const [file, schema] of Object.entries(generated)) {
      // Failing here means the zod contracts changed: run libs/contracts/scripts/generate-json-schema.ts.
      expect({ file, text: committed.get(file) }).toEqual({ file, text: formatJson(schema) });
    }
  });

  it('has a schema file for every event type, and an index schema that names them all', () => {
    const types = Object.values(AuditEventTypes);
    for (const type of types) {
      const schema = JSON.parse(committed.get(auditJsonSchemaFile(type)) ?? '{}') as Record<string, unknown>;
      expect(schema).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: `${AUDIT_JSON_SCHEMA_BASE}${type}.json`,
        title: expect.stringContaining(type),
        description: expect.any(String),
      });
    }
    const index = JSON.parse(committed.get(AUDIT_INDEX_SCHEMA_FILE)!) as { $id: string; $defs: object };
    expect(index.$id).toBe('https://airlock.dev/schemas/audit/v1/audit-event.json');
    expect(Object.keys(index.$defs).sort()).toEqual([...types].sort());
    expect(committed.size).toBe(types.length + 1);
  });

  it('never forbids unknown fields, and documents every envelope field', () => {
    for (const [file, text] of committed) {
      const schema: unknown = JSON.parse(text);
      const closed = [...objectsIn(schema)].filter((o) => o.additionalProperties === false);
      expect({ file, closed }).toEqual({ file, closed: [] });
    }
    const completed = JSON.parse(committed.get(auditJsonSchemaFile('operation.completed'))!) as {
      properties: Record<string, { description?: string }>;
    };
    for (const field of ['id', 'schemaVersion', 'time', 'sessionId', 'requestId', 'actor', 'connection', 'source']) {
      expect({ field, description: typeof completed.properties[field].description }).toEqual({
        field,
        description: 'string',
      });
    }
  });

  it('compiles in Ajv strict mode (draft 2020-12)', () => {
    const { byType, index } = compileCommitted();
    expect(byType.size).toBe(Object.values(AuditEventTypes).length);
    expect(index).toBeInstanceOf(Function);
  });

  describe('validating events as the services build them', () => {
    const { byType, index } = compileCommitted();
    const events = drafts().map(published);

    it('covers every event type with a sample', () => {
      expect(new Set(events.map((e) => e.type))).toEqual(new Set(Object.values(AuditEventTypes)));
    });

    it('accepts every one, with its own schema and with the index schema', () => {
      for (const event of events) {
        const validate = byType.get(String(event.type))!;
        expect({ type: event.type, errors: validate(event) ? null : validate.errors }).toEqual({
          type: event.type,
          errors: null,
        });
        expect({ type: event.type, errors: index(event) ? null : index.errors }).toEqual({
          type: event.type,
          errors: null,
        });
      }
    });

    it('accepts fields it does not know, in the envelope and in data', () => {
      for (const event of events) {
        const later = { ...event, region: 'eu-west-1', data: { ...(event.data as object), traceId: 'abc' } };
        expect(byType.get(String(event.type))!(later)).toBe(true);
        expect(index(later)).toBe(true);
        expect(AuditEventSchema.safeParse(later).success).toBe(true);
      }
    });

    /** Each bad event is refused by its type's schema, by the index schema and by the zod contract alike. */
    function expectRefused(type: string, bad: Record<string, unknown>, why: string): void {
      const validate = byType.get(type)!;
      expect({ why, own: validate(bad), index: index(bad), zod: AuditEventSchema.safeParse(bad).success }).toEqual({
        why,
        own: false,
        index: false,
        zod: false,
      });
    }

    it('refuses an event that lacks an envelope field', () => {
      const envelope = [
        'id',
        'schemaVersion',
        'time',
        'sessionId',
        'requestId',
        'actor',
        'connection',
        'protocol',
        'source',
        'type',
        'data',
      ];
      for (const event of events) {
        for (const field of envelope) {
          const { [field]: _dropped, ...rest } = event;
          expectRefused(String(event.type), rest, `${String(event.type)} without ${field}`);
        }
      }
    });

    it('refuses an unknown type, and data of one type under another', () => {
      for (const event of events) {
        expectRefused(String(event.type), { ...event, type: 'operation.exploded' }, `${String(event.type)} renamed`);
      }
      const completed = events.find((e) => e.type === 'operation.completed')!;
      expectRefused('operation.completed', { ...completed, type: 'operation.denied' }, 'completed as denied');
      const validateDenied = byType.get('operation.denied')!;
      expect(validateDenied({ ...completed, type: 'operation.denied' })).toBe(false);
    });

    it('refuses an id that is not a UUIDv7, a wrong version, a bad time or a bad field type', () => {
      for (const event of events) {
        const type = String(event.type);
        expectRefused(type, { ...event, id: randomUUID() }, `${type} with a UUIDv4 id`);
        expectRefused(type, { ...event, id: String(event.id).toUpperCase() }, `${type} with an upper-case id`);
        expectRefused(type, { ...event, schemaVersion: 2 }, `${type} of version 2`);
        expectRefused(type, { ...event, time: 'yesterday' }, `${type} with a bad time`);
        expectRefused(type, { ...event, data: 'none' }, `${type} with data not an object`);
      }
      const decided = events.find((e) => e.type === 'operation.decided')!;
      expectRefused(
        'operation.decided',
        { ...decided, data: { ...(decided.data as object), cached: 'no' } },
        'cached not a boolean',
      );
    });
  });
});
