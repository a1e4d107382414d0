import { z } from 'zod';
import { ConnectionNameSchema, type PolicyOperation, type Principal } from '@airlock/contracts';

/** A policy document sent for checking is at most this long. */
export const MAX_DOCUMENT_CHARS = 1024 * 1024;

/** `POST /policy/validate`. */
export const ValidateBodySchema = z.strictObject({
  document: z.string().min(1, 'give the YAML text of a policy document').max(MAX_DOCUMENT_CHARS),
});

const HttpDryRunSchema = z.strictObject({
  method: z
    .string()
    .regex(/^[A-Za-z]{1,16}$/, 'an HTTP method')
    .transform((m) => m.toUpperCase()),
  path: z.string().startsWith('/', 'starts with /').max(8192),
  /** The query string without its "?": `a=1&b`. */
  query: z.string().max(65536).optional(),
  headers: z.record(z.string().min(1).max(256), z.string().max(16384)).optional(),
});

/** `POST /policy/dry-run`: who would do what, where. */
export const DryRunBodySchema = z
  .strictObject({
    principal: z.strictObject({
      issuer: z.string().min(1).max(2048).default('dry-run'),
      subject: z.string().min(1).max(1024),
      groups: z.array(z.string().min(1).max(256)).max(256).default([]),
    }),
    connection: ConnectionNameSchema,
    sql: z.string().min(1).max(MAX_DOCUMENT_CHARS).optional(),
    params: z.array(z.string().nullable()).max(65535).optional(),
    /** The session's search_path, schema names as the server compares them; ["public"] when absent. */
    searchPath: z.array(z.string().min(1).max(63)).min(1).max(32).optional(),
    http: HttpDryRunSchema.optional(),
  })
  .refine((b) => (b.sql === undefined) !== (b.http === undefined), {
    message: 'give either sql (a PostgreSQL statement) or http (a request), not both',
  })
  .refine((b) => b.sql !== undefined || (b.params === undefined && b.searchPath === undefined), {
    message: 'params and searchPath go with sql',
  });
export type DryRunBody = z.infer<typeof DryRunBodySchema>;

/** What the dry run answers. */
export interface DryRunView {
  policy: { id: string; version: string };
  decision: 'allow' | 'deny' | 'review';
  reason: string;
  ruleId: string | null;
  masking: string[];
  approval: { approverGroups: string[]; required: number; expiresInSeconds: number; grantSeconds?: number } | null;
  /** What policy judged: the classified statement or the HTTP operation. */
  operation: PolicyOperation;
  principal: Principal;
}

export type ValidateView =
  | { valid: true; id: string; version: string; rules: number }
  | { valid: false; errors: string[] };

/** Checks a body; the message names every field at fault, never echoing a value. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  return throwInvalid(
    result.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
      return `${i.path.map(String).join('.') || 'body'}: ${i.message}`;
    }),
  );
}

export class InvalidBodyError extends Error {}

function throwInvalid(problems: string[]): never {
  throw new InvalidBodyError(problems.join('; '));
}
