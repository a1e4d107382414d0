import { Inject, Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@airlock/contracts';
import type { IssuerRole } from '@airlock/identity';
import { VAULT_CONFIG, adminRole, type VaultConfig } from '../config';
import { ForbiddenError } from '../errors';

type AuthenticatedRequest = { user?: Principal };

/** After `JwtAuthGuard`: the caller must be in a group VAULT_ADMIN_GROUPS gives its issuer. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly admins: IssuerRole;

  constructor(@Inject(VAULT_CONFIG) config: VaultConfig) {
    this.admins = adminRole(config);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
    if (!this.admins.holds(user)) {
      throw new ForbiddenError('the vault admin API is for members of the administrator group');
    }
    return true;
  }
}

/** The authenticated administrator (set by `JwtAuthGuard`, checked by `AdminGuard`). */
export const Admin = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new ForbiddenError('the vault admin API is for members of the administrator group');
  return user;
});
