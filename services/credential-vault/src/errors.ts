import { PublicError } from '@airlock/runtime';

export {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  parseInput,
} from '@airlock/runtime';

/** A lease the vault will not issue; the message is safe to send to the ingress. */
export class LeaseRefusedError extends PublicError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, 'lease_refused', message, options);
  }
}
