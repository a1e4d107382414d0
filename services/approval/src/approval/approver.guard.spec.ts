import type { Principal } from '@airlock/contracts';
import { ForbiddenError } from '../errors';
import { decisionRefusal, mayView, type Guarded } from './approver.guard';

const approval: Guarded = {
  approverGroups: ['dba', 'sre'],
  requesterIssuer: 'https://idp.example',
  requesterSubject: 'agent-1',
};
const who = (subject: string, groups: string[], issuer = 'https://idp.example'): Principal => ({
  issuer,
  subject,
  groups,
});

describe('who may see and decide an approval', () => {
  it('lets a member of any approver group decide', () => {
    expect(decisionRefusal(who('alice', ['dev', 'sre']), approval)).toBeNull();
  });

  it('refuses callers outside the approver groups, admins included', () => {
    const refusal = decisionRefusal(who('mallory', ['dev', 'airlock-admins']), approval);
    expect(refusal).toBeInstanceOf(ForbiddenError);
    expect(refusal?.status).toBe(403);
    expect(refusal?.publicMessage).toBe('only members of dba, sre may decide this approval');
  });

  it('never lets the requester decide its own request, even as an approver', () => {
    expect(decisionRefusal(who('agent-1', ['dba']), approval)?.publicMessage).toBe(
      'the requester cannot approve its own request',
    );
  });

  it('tells the same subject from another issuer apart from the requester', () => {
    expect(decisionRefusal(who('agent-1', ['dba'], 'https://other-idp.example'), approval)).toBeNull();
  });

  it('shows an approval to its approvers and to the admin group only', () => {
    expect(mayView(who('alice', ['sre']), approval, 'airlock-admins')).toBe(true);
    expect(mayView(who('root', ['airlock-admins']), approval, 'airlock-admins')).toBe(true);
    expect(mayView(who('bob', ['dev']), approval, 'airlock-admins')).toBe(false);
  });
});
