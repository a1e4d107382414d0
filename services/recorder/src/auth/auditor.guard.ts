import { Inject, Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@airlock/contracts';
import type { IssuerRole } from '@airlock/identity';
import { RECORDER_CONFIG, auditorRole, type RecorderConfig } from '../config';
import { ForbiddenError } from '../errors';

type AuthenticatedRequest = { user?: Principal };

const REFUSAL = 'the audit API is for members of the auditor group';

/** After `JwtAuthGuard`: the caller must be in a group AUDITOR_GROUPS gives its issuer. */
@Injectable()
export class AuditorGuard implements CanActivate {
  private readonly auditors: IssuerRole;

  constructor(@Inject(RECORDER_CONFIG) config: RecorderConfig) {
    this.auditors = auditorRole(config);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
    if (!this.auditors.holds(user)) throw new ForbiddenError(REFUSAL);
    return true;
  }
}

/** The authenticated auditor (set by `JwtAuthGuard`, checked by `AuditorGuard`). */
export const Auditor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new ForbiddenError(REFUSAL);
  return user;
});
