import { Inject, Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@airlock/contracts';
import { VAULT_CONFIG, type VaultConfig } from '../config';
import { ForbiddenError } from '../errors';

type AuthenticatedRequest = { user?: Principal };

/** After `JwtAuthGuard`: the caller must be in VAULT_ADMIN_GROUP. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@Inject(VAULT_CONFIG) private readonly config: VaultConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
    if (!user?.groups.includes(this.config.VAULT_ADMIN_GROUP)) {
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
