import { z } from 'zod';
import { PublicError } from '@airlock/runtime';

/**
 * A refusal the vault answers itself. `publicMessage` is what the caller sees (an admin over
 * HTTP, an ingress over Kafka); `cause` is for the logs only.
 */
export class VaultError extends PublicError {}

export class InvalidInputError extends VaultError {
  constructor(message: string) {
    super(400, 'bad_request', message);
  }
}

export class ForbiddenError extends VaultError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

export class NotFoundError extends VaultError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends VaultError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** A dependency did not answer; nothing was changed unless the message says otherwise. */
export class UnavailableError extends VaultError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(503, code, message, options);
  }
}

/** A lease the vault will not issue; the message is safe to send to the ingress. */
export class LeaseRefusedError extends VaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, 'lease_refused', message, options);
  }
}

/**
 * Checks input against a schema; a failure names every field at fault. Messages come from the
 * schema, never from the input: a rejected secret is not echoed back.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, field?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => {
    const path = [...(field ? [field] : []), ...i.path.map(String)].join('.') || 'body';
    return `${path}: ${i.message}`;
  });
  throw new InvalidInputError(issues.join('; '));
}
