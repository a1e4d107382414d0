import { z } from 'zod';
import { AUDIT_SCHEMA_VERSION, AuditEventSchema, type AuditEventType } from './audit';

export type JsonSchema = z.core.JSONSchema.BaseSchema;

/** Every `$id` starts here; the major version is part of it, so a breaking change gets new ids. */
export const AUDIT_JSON_SCHEMA_BASE = `https://airlock.dev/schemas/audit/v${AUDIT_SCHEMA_VERSION}/`;
/** The file of the schema that takes any event type. */
export const AUDIT_INDEX_SCHEMA_FILE = 'audit-event.schema.json';

export function auditJsonSchemaFile(type: AuditEventType): string {
  return `${type}.schema.json`;
}

/**
 * The published JSON Schema (draft 2020-12) of the audit stream: one per event type, then the
 * index schema that takes any of them. Keyed by file name, in that order; a fresh copy per call.
 */
export function auditJsonSchemas(): Record<string, JsonSchema> {
  const files: Record<string, JsonSchema> = {};
  const defs: Record<string, JsonSchema> = {};
  for (const option of AuditEventSchema.options) {
    const type = option.shape.type.value;
    const { $schema, description, ...rest } = z.toJSONSchema(option, {
      target: 'draft-2020-12',
      // The input side is what a producer may send: an object without a catchall then gets no
      // `additionalProperties: false`, so fields added later within this major version validate.
      io: 'input',
      unrepresentable: 'throw',
      cycles: 'throw',
      reused: 'inline',
    });
    const body: JsonSchema = { title: `Airlock audit event ${type}`, description, ...rest };
    files[auditJsonSchemaFile(type)] = { $schema, $id: `${AUDIT_JSON_SCHEMA_BASE}${type}.json`, ...body };
    defs[type] = body;
  }
  files[AUDIT_INDEX_SCHEMA_FILE] = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${AUDIT_JSON_SCHEMA_BASE}audit-event.json`,
    title: 'Airlock audit event',
    description:
      `One event of the Airlock audit stream (Kafka topic airlock.audit), schema version ${AUDIT_SCHEMA_VERSION}: ` +
      'exactly one of the event types, told apart by `type`. It knows the types of this version only: ' +
      'a consumer should skip an event of an unknown type, not reject it.',
    oneOf: Object.keys(defs).map((type) => ({ $ref: `#/$defs/${type}` })),
    $defs: defs,
  };
  return files;
}

/** The print width of .prettierrc: the files are written the way prettier formats JSON. */
const PRINT_WIDTH = 120;

/**
 * JSON with two-space indentation and a final newline, laid out as prettier lays out JSON, so
 * that the generated files pass `prettier --check` unchanged: objects always open one key per
 * line; an array of scalars stays on one line when it fits, otherwise one element per line.
 */
export function formatJson(value: unknown): string {
  return `${printJson(value, 0, 0, 0)}\n`;
}

/** `column` is where the value starts on its line; `trailing` counts what follows it there (a comma). */
function printJson(value: unknown, indent: number, column: number, trailing: number): string {
  const inner = ' '.repeat(indent + 2);
  const close = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      if (column + flat.length + trailing <= PRINT_WIDTH) return flat;
    }
    const items = value.map((v, i) => inner + printJson(v, indent + 2, indent + 2, i < value.length - 1 ? 1 : 0));
    return `[\n${items.join(',\n')}\n${close}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([k, v], i) => {
      const key = `${JSON.stringify(k)}: `;
      return inner + key + printJson(v, indent + 2, indent + 2 + key.length, i < entries.length - 1 ? 1 : 0);
    });
    return `{\n${lines.join(',\n')}\n${close}}`;
  }
  return JSON.stringify(value);
}
