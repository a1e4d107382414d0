import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@airlock/contracts';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';
import { ForbiddenError } from '../errors';

type AuthenticatedRequest = { user?: Principal };

/** After `JwtAuthGuard`: the caller must be in APPROVAL_ADMIN_GROUP. */
@Injectable()
export class NotificationsAdminGuard implements CanActivate {
  constructor(@Inject(APPROVAL_CONFIG) private readonly config: Pick<ApprovalConfig, 'APPROVAL_ADMIN_GROUP'>) {}

  canActivate(ctx: ExecutionContext): boolean {
    const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
    if (!user?.groups.includes(this.config.APPROVAL_ADMIN_GROUP)) {
      throw new ForbiddenError('notification records are for members of the administrator group');
    }
    return true;
  }
}
