import { Inject, Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@airlock/contracts';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import { ForbiddenError } from '../errors';

type AuthenticatedRequest = { user?: Principal };

const REFUSAL = 'the audit API is for members of the auditor group';

/** After `JwtAuthGuard`: the caller must be in AUDITOR_GROUP. */
@Injectable()
export class AuditorGuard implements CanActivate {
  constructor(@Inject(RECORDER_CONFIG) private readonly config: RecorderConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
    if (!user?.groups.includes(this.config.AUDITOR_GROUP)) throw new ForbiddenError(REFUSAL);
    return true;
  }
}

/** The authenticated auditor (set by `JwtAuthGuard`, checked by `AuditorGuard`). */
export const Auditor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new ForbiddenError(REFUSAL);
  return user;
});
