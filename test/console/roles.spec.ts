import type { ConsoleConfig } from '../../apps/console/src/config';
import { rolesOf, type Session } from '../../apps/console/src/roles';

const ISSUER = 'https://login.example.com';
const PARTNER = 'https://partner.example.net';

const config: ConsoleConfig = {
  issuer: ISSUER,
  clientId: 'airlock-console',
  scope: 'openid groups',
  services: { approval: '', recorder: '', policy: '', vault: '' },
  roles: {
    vaultAdmin: { [ISSUER]: ['airlock-admins'] },
    approvalAdmin: { [ISSUER]: ['airlock-admins'] },
    approver: { [ISSUER]: ['dba', 'sre'], [PARTNER]: ['*'] },
    auditor: { [ISSUER]: ['compliance'] },
  },
};

function session(issuer: string, groups: string[]): Session {
  return { accessToken: 'x', issuer, subject: 'someone', groups, expiresAt: 0 };
}

describe('the console reads roles as the services grant them (docs/roles.md)', () => {
  it('counts a group under the issuer it is listed for', () => {
    expect(rolesOf(session(ISSUER, ['airlock-admins', 'dba']), config)).toEqual({
      vaultAdmin: true,
      approvalAdmin: true,
      approver: true,
      auditor: false,
    });
  });

  it('grants nothing for the same group names in a token of another issuer', () => {
    expect(rolesOf(session(PARTNER, ['airlock-admins', 'compliance']), config)).toEqual({
      vaultAdmin: false,
      approvalAdmin: false,
      approver: true, // "*": every group of the partner may stand for approver groups
      auditor: false,
    });
    expect(rolesOf(session(PARTNER, []), config).approver).toBe(false);
    expect(rolesOf(session('https://other.example.org', ['dba']), config).approver).toBe(false);
  });
});
