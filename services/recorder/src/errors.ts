import { PublicError } from '@airlock/runtime';

/**
 * A refusal the recorder answers itself. `publicMessage` is what the caller sees; `cause` is for
 * the logs only.
 */
export class RecorderError extends PublicError {}

export class InvalidInputError extends RecorderError {
  constructor(message: string) {
    super(400, 'bad_request', message);
  }
}

export class ForbiddenError extends RecorderError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

export class NotFoundError extends RecorderError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

/** The store did not answer. */
export class UnavailableError extends RecorderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, 'store_unavailable', message, options);
  }
}
