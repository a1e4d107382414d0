import { z } from 'zod';
import { PublicError } from '@airlock/runtime';

/**
 * A refusal the approval service answers itself. `publicMessage` is what the caller sees (an
 * approver over HTTP, an ingress over Kafka); `cause` is for the logs only.
 */
export class ApprovalError extends PublicError {}

export class InvalidInputError extends ApprovalError {
  constructor(message: string, code = 'bad_request') {
    super(400, code, message);
  }
}

export class ForbiddenError extends ApprovalError {
  constructor(message: string, code = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends ApprovalError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends ApprovalError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** A link that worked once, or would have until its time: it never will again. */
export class GoneError extends ApprovalError {
  constructor(code: 'link_used' | 'link_expired', message: string) {
    super(410, code, message);
  }
}

/** A dependency did not answer; nothing was changed. */
export class UnavailableError extends ApprovalError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(503, code, message, options);
  }
}

/** Checks input against a schema; a failure names every field at fault, never echoing the input. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, field?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => {
    const path = [...(field ? [field] : []), ...i.path.map(String)].join('.') || 'body';
    return `${path}: ${i.message}`;
  });
  throw new InvalidInputError(issues.join('; '));
}
