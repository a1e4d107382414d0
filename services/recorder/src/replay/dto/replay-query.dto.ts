import { z } from 'zod';
import { ConnectionNameSchema, DecisionSchema, AuditProtocolSchema } from '@airlock/contracts';
import { InvalidInputError } from '../../errors';

const TimeSchema = z.iso.datetime({ offset: true });

const from = TimeSchema.optional().describe(
  'Start of the time range, inclusive (RFC 3339). Defaults to 24 hours before `to`. ' +
    'The range selects events by the time in their UUIDv7 id.',
);
const to = TimeSchema.optional().describe('End of the time range, exclusive (RFC 3339). Defaults to now.');
const cursor = z
  .string()
  .min(1)
  .max(1024)
  .optional()
  .describe('Opaque: the `nextCursor` of the previous page. Absent for the first page.');

/** `GET /audit/sessions`. */
export const SessionsQuerySchema = z
  .strictObject({
    principal: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe(
        "Only sessions of this principal (the session's first authenticated actor): the subject (sub) of its token.",
      ),
    issuer: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .describe('With `principal`: only that subject of this token issuer (iss).'),
    connection: ConnectionNameSchema.optional().describe(
      "Only sessions on this connection (the first one the session's events name).",
    ),
    protocol: AuditProtocolSchema.optional().describe('Only sessions of this protocol.'),
    from: from.describe(
      'Only sessions that started at or after this time (RFC 3339). Defaults to 24 hours before `to`; at most 31 days before it.',
    ),
    to: to.describe('Only sessions that started before this time (RFC 3339). Defaults to now.'),
    decision: z
      .enum([...DecisionSchema.options, 'approved'])
      .optional()
      .describe(
        'allow, deny, review: only sessions where policy decided so at least once (review: an operation was held); approved: only sessions where an approval was granted.',
      ),
    hasMasking: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .describe('true: only sessions where some response had values masked; false: only sessions where none had.'),
    limit: z.coerce.number().int().min(1).max(200).default(50).describe('Sessions per page.'),
    cursor,
  })
  .refine((q) => q.issuer === undefined || q.principal !== undefined, {
    path: ['issuer'],
    message: 'issuer qualifies principal: give principal too',
  });
export type SessionsQuery = z.infer<typeof SessionsQuerySchema>;

/** `GET /audit/sessions/:sessionId/events`. */
export const SessionEventsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100).describe('Events per page.'),
  cursor,
});
export type SessionEventsQuery = z.infer<typeof SessionEventsQuerySchema>;

/** `GET /audit/export`. */
export const ExportQuerySchema = z.strictObject({ from, to });
export type ExportQuery = z.infer<typeof ExportQuerySchema>;

/** A session id in a path: any UUID, in either case. */
export const SessionIdSchema = z
  .guid('expected a UUID')
  .transform((id) => id.toLowerCase())
  .describe('The session id (a UUID).');

/**
 * Checks a query string or path parameter; a failure names every parameter at fault, with the
 * schema's words only (a rejected value is not echoed back).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, field?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      return `unknown parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => k.slice(0, 64)).join(', ')}`;
    }
    const path = [...(field ? [field] : []), ...i.path.map(String)].join('.') || 'query';
    return `${path}: ${i.message}`;
  });
  throw new InvalidInputError(issues.join('; '));
}
