import type { Principal } from '@airlock/contracts';
import { adminRole, approverRole } from '../config';
import { ForbiddenError } from '../errors';
import { decisionRefusal, mayView, type CallerRoles, type Guarded } from './approver.guard';

const IDP = 'https://idp.example';
const OTHER = 'https://other-idp.example';

const approval: Guarded = {
  approverGroups: ['dba', 'sre'],
  requesterIssuer: IDP,
  requesterSubject: 'agent-1',
};
const who = (subject: string, groups: string[], issuer = IDP): Principal => ({ issuer, subject, groups });

/** Two trusted issuers: the first one's groups make approvers and admins, the second's make approvers of its own groups. */
const config = {
  OIDC_ISSUERS: [
    { issuer: IDP, jwksUri: `${IDP}/jwks` },
    { issuer: OTHER, jwksUri: `${OTHER}/jwks` },
  ],
  APPROVAL_ADMIN_GROUPS: { [IDP]: ['airlock-admins'] },
  APPROVAL_APPROVER_GROUPS: { [IDP]: ['*'], [OTHER]: ['other-dba'] },
};
const admins = adminRole(config);
const approvers = approverRole(config);
const roles = (p: Principal): CallerRoles => ({ admin: admins.holds(p), approverGroups: approvers.groupsOf(p) });
const refusal = (p: Principal) => decisionRefusal(p, roles(p), approval);

describe('who may see and decide an approval', () => {
  it('lets a member of any approver group decide', () => {
    expect(refusal(who('alice', ['dev', 'sre']))).toBeNull();
  });

  it('refuses callers outside the approver groups, admins included', () => {
    const r = refusal(who('mallory', ['dev', 'airlock-admins']));
    expect(r).toBeInstanceOf(ForbiddenError);
    expect(r?.status).toBe(403);
    expect(r?.publicMessage).toBe('only members of dba, sre may decide this approval');
  });

  it('never lets the requester decide its own request, even as an approver', () => {
    expect(refusal(who('agent-1', ['dba']))?.publicMessage).toBe('the requester cannot approve its own request');
  });

  it('tells the same subject from another issuer apart from the requester', () => {
    const onlyOther = { ...approval, approverGroups: ['other-dba'] };
    const p = who('agent-1', ['other-dba'], OTHER);
    expect(decisionRefusal(p, roles(p), onlyOther)).toBeNull();
  });

  it('refuses an approver group name in a token of an issuer not configured for it', () => {
    const p = who('eve', ['dba', 'sre'], OTHER);
    expect(refusal(p)?.publicMessage).toBe('only members of dba, sre may decide this approval');
    expect(mayView(roles(p), approval)).toBe(false);
  });

  it('shows an approval to its approvers and to the admins of the admin issuer only', () => {
    expect(mayView(roles(who('alice', ['sre'])), approval)).toBe(true);
    expect(mayView(roles(who('root', ['airlock-admins'])), approval)).toBe(true);
    expect(mayView(roles(who('root', ['airlock-admins'], OTHER)), approval)).toBe(false);
    expect(mayView(roles(who('bob', ['dev'])), approval)).toBe(false);
  });
});
