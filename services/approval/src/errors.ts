import { PublicError } from '@airlock/runtime';

export {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  parseInput,
} from '@airlock/runtime';

/** A link that worked once, or would have until its time: it never will again. */
export class GoneError extends PublicError {
  constructor(code: 'link_used' | 'link_expired', message: string) {
    super(410, code, message);
  }
}
