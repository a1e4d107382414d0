import type { IncomingHttpHeaders } from 'node:http';
import {
  ForbiddenException,
  HttpStatus,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Principal } from '@airlock/contracts';
import {
  TokenRejectedError,
  bearerToken,
  tokenRejectionToHttpException,
  type IssuerRole,
  type TokenVerifier,
} from '@airlock/identity';
import { POLICY_CONFIG, policyAdminRole, type PolicyConfig } from '../config';

/** The admin routes' token verifier; null when the service trusts no issuer (OIDC_ISSUERS unset). */
export const POLICY_TOKEN_VERIFIER = Symbol('POLICY_TOKEN_VERIFIER');

type AdminRequest = { headers: IncomingHttpHeaders; user?: Principal };

/**
 * The routes that show the policy or try it out need a person's token with the policy admin
 * role (POLICY_ADMIN_GROUPS, per issuer). Without trusted issuers they are closed: 401, never open.
 */
@Injectable()
export class PolicyAdminGuard implements CanActivate {
  private readonly admins: IssuerRole;

  constructor(
    @Inject(POLICY_CONFIG) config: PolicyConfig,
    @Inject(POLICY_TOKEN_VERIFIER) private readonly verifier: TokenVerifier | null,
  ) {
    this.admins = policyAdminRole(config);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AdminRequest>();
    if (this.verifier === null) {
      throw new UnauthorizedException({
        statusCode: HttpStatus.UNAUTHORIZED,
        error: 'unauthorized',
        code: 'not_configured',
        message: 'this policy service trusts no token issuer (OIDC_ISSUERS is unset): its admin routes are closed',
      });
    }
    let principal: Principal;
    try {
      principal = await this.verifier.verify(bearerToken(req.headers));
    } catch (err) {
      if (err instanceof TokenRejectedError) throw tokenRejectionToHttpException(err);
      throw err;
    }
    if (!this.admins.holds(principal)) {
      throw new ForbiddenException({
        statusCode: HttpStatus.FORBIDDEN,
        error: 'forbidden',
        message: 'the policy admin API is for members of the policy administrator group',
      });
    }
    req.user = principal;
    return true;
  }
}
