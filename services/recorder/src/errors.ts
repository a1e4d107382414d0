import { PublicError } from '@airlock/runtime';

export { ForbiddenError, InvalidInputError, NotFoundError } from '@airlock/runtime';

/** The store did not answer. */
export class UnavailableError extends PublicError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, 'store_unavailable', message, options);
  }
}
