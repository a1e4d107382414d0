import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { AuditEvent } from './audit';
import { auditJsonSchemas, auditJsonSchemaFile } from './json-schema';
import { AuditEventTypes } from './audit';

/**
 * The audit contract compiled into plain checks: the JSON Schema generated from the zod schemas
 * (the published one) compiled by Ajv, one function per event type. It answers the same
 * question as `AuditEventSchema.safeParse(v).success` for any JSON value (a parity test holds
 * it to that) without copying the event, which is most of what the zod parse costs the recorder
 * per event. It only says yes or no: callers ask zod for the reasons when it says no.
 *
 * Options chosen for parity with zod: string lengths count UTF-16 code units as zod does
 * (`unicode: false`), patterns are compiled without the `u` flag as zod compiles them, and
 * formats are not checked separately (the schema's pattern is zod's own check; `format` is a
 * note for readers of the published schema).
 */
let checks: Map<string, ValidateFunction> | undefined;

function compile(): Map<string, ValidateFunction> {
  const ajv = new Ajv2020({
    strict: true,
    // Deprecated in Ajv 8 but still what its length checks read; its notice is the only warning silenced.
    unicode: false,
    unicodeRegExp: false,
    validateFormats: false,
    logger: {
      log: () => undefined,
      warn: () => undefined,
      error: (...args: unknown[]) => {
        throw new Error(`audit contract does not compile: ${args.join(' ')}`);
      },
    },
  });
  const schemas = auditJsonSchemas();
  const byType = new Map<string, ValidateFunction>();
  for (const type of Object.values(AuditEventTypes)) {
    byType.set(type, ajv.compile(schemas[auditJsonSchemaFile(type)]));
  }
  return byType;
}

export function isAuditEvent(value: unknown): value is AuditEvent {
  checks ??= compile();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return false;
  const check = checks.get(type);
  return check !== undefined && check(value);
}
