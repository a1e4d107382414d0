import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@airlock/contracts';
import { ForbiddenError } from '../errors';

type AuthenticatedRequest = { user?: Principal };

/** What decides who may see and decide an approval. */
export interface Guarded {
  approverGroups: string[];
  requesterIssuer: string;
  requesterSubject: string;
}

/**
 * What the caller's token grants in the approval API: the groups its issuer may assert as
 * approver groups (APPROVAL_APPROVER_GROUPS), and whether it is an administrator
 * (APPROVAL_ADMIN_GROUPS). A group name from another issuer grants nothing.
 */
export interface CallerRoles {
  approverGroups: string[];
  admin: boolean;
}

export function inApproverGroups(roles: CallerRoles, a: Pick<Guarded, 'approverGroups'>): boolean {
  return roles.approverGroups.some((g) => a.approverGroups.includes(g));
}

/** Its approvers see an approval; administrators see every one. */
export function mayView(roles: CallerRoles, a: Pick<Guarded, 'approverGroups'>): boolean {
  return roles.admin || inApproverGroups(roles, a);
}

/**
 * Why `caller` may not approve or deny, or null when it may: only members of the approver
 * groups decide (the admin group sees everything but decides nothing by itself being admin),
 * and never the requester, whichever groups it is in.
 */
export function decisionRefusal(caller: Principal, roles: CallerRoles, a: Guarded): ForbiddenError | null {
  if (!inApproverGroups(roles, a)) {
    return new ForbiddenError(`only members of ${a.approverGroups.join(', ')} may decide this approval`);
  }
  if (caller.issuer === a.requesterIssuer && caller.subject === a.requesterSubject) {
    return new ForbiddenError('the requester cannot approve its own request');
  }
  return null;
}

/**
 * The authenticated caller, set by `JwtAuthGuard`. Whether it may see or decide an approval
 * depends on that approval's groups, so it is checked where the approval is read (under its
 * row lock for a decision), not by a route guard.
 */
export const Approver = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new ForbiddenError('the approval API needs an approver token');
  return user;
});
