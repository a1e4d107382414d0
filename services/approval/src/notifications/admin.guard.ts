import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@airlock/contracts';
import type { IssuerRole } from '@airlock/identity';
import { APPROVAL_CONFIG, adminRole, type ApprovalConfig } from '../config';
import { ForbiddenError } from '../errors';

type AuthenticatedRequest = { user?: Principal };

/** After `JwtAuthGuard`: the caller must be in a group APPROVAL_ADMIN_GROUPS gives its issuer. */
@Injectable()
export class NotificationsAdminGuard implements CanActivate {
  private readonly admins: IssuerRole;

  constructor(@Inject(APPROVAL_CONFIG) config: Pick<ApprovalConfig, 'APPROVAL_ADMIN_GROUPS' | 'OIDC_ISSUERS'>) {
    this.admins = adminRole(config);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
    if (!this.admins.holds(user)) {
      throw new ForbiddenError('notification records are for members of the administrator group');
    }
    return true;
  }
}
