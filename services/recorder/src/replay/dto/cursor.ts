import { z } from 'zod';
import { IdSchema } from '@airlock/contracts';
import { InvalidInputError } from '../../errors';

/*
 * Cursors are opaque to clients: base64url of a small JSON object that holds the sort key of the
 * last item of a page (and, for sessions, the time range the first page resolved, so that a
 * listing with a default range does not shift while it is paged through).
 */

const TimeSchema = z.iso.datetime({ offset: true });

export const SessionCursorSchema = z.strictObject({
  /** The range of the listing. */
  from: TimeSchema,
  to: TimeSchema,
  /** The last session's start, to the microsecond, and its id: the sort key, newest first. */
  startedAt: TimeSchema,
  sessionId: IdSchema,
});
export type SessionCursor = z.infer<typeof SessionCursorSchema>;

export const EventCursorSchema = z.strictObject({
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  chain: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
});
export type EventCursor = z.infer<typeof EventCursorSchema>;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor<S extends z.ZodType>(schema: S, value: z.infer<S>): string {
  return Buffer.from(JSON.stringify(schema.parse(value))).toString('base64url');
}

/** The cursor's content, or a 400 when it is not a cursor this listing handed out. */
export function decodeCursor<S extends z.ZodType>(schema: S, raw: string): z.infer<S> {
  const refused = new InvalidInputError('cursor: not a cursor of this listing; start again without one');
  if (!BASE64URL.test(raw)) throw refused;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw refused;
  }
  const result = schema.safeParse(value);
  if (!result.success) throw refused;
  return result.data;
}
