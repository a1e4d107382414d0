import { z } from 'zod';
import { ANY_GROUP, IssuerRole, checkRoleGroups, replacedSetting, roleGroupsSetting } from './roles';

const one = 'https://idp.one';
const two = 'https://idp.two';
const who = (issuer: string, groups: string[]) => ({ issuer, subject: 's', groups });

describe('issuer-scoped roles', () => {
  it('grants a role only for the groups of the issuer they are configured for', () => {
    const admin = new IssuerRole({ [one]: ['airlock-admins'] }, [{ issuer: one }, { issuer: two }], ['x']);
    expect(admin.holds(who(one, ['agents', 'airlock-admins']))).toBe(true);
    expect(admin.holds(who(two, ['airlock-admins']))).toBe(false);
    expect(admin.holds(who(one, ['agents']))).toBe(false);
    expect(admin.holds(undefined)).toBe(false);
    expect(admin.groupsOf(who(one, ['agents', 'airlock-admins']))).toEqual(['airlock-admins']);
  });

  it('lets each issuer have groups of its own, or all of its groups with "*"', () => {
    const approver = new IssuerRole({ [one]: ['dba'], [two]: [ANY_GROUP] }, [{ issuer: one }, { issuer: two }], []);
    expect(approver.groupsOf(who(one, ['dba', 'sre']))).toEqual(['dba']);
    expect(approver.groupsOf(who(two, ['dba', 'sre']))).toEqual(['dba', 'sre']);
    expect(approver.groupsOf(who('https://other', ['dba']))).toEqual([]);
  });

  it('without a setting, the single trusted issuer grants the default groups; several issuers grant nothing', () => {
    expect(
      new IssuerRole(undefined, [{ issuer: one }], ['airlock-auditors']).holds(who(one, ['airlock-auditors'])),
    ).toBe(true);
    const several = new IssuerRole(undefined, [{ issuer: one }, { issuer: two }], ['airlock-auditors']);
    expect(several.holds(who(one, ['airlock-auditors']))).toBe(false);
  });

  describe('the boot check', () => {
    const schema = z
      .object({
        OIDC_ISSUERS: z.array(z.object({ issuer: z.string() })),
        ROLE_GROUPS: roleGroupsSetting(),
        ROLE_GROUP: replacedSetting('ROLE_GROUPS'),
      })
      .superRefine((c, ctx) => checkRoleGroups(ctx, 'ROLE_GROUPS', c.ROLE_GROUPS, c.OIDC_ISSUERS, 'admins'));
    const messages = (env: Record<string, unknown>): string[] => {
      const r = schema.safeParse(env);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };

    it('accepts a mapping of trusted issuers, and no setting with one issuer', () => {
      expect(messages({ OIDC_ISSUERS: [{ issuer: one }], ROLE_GROUPS: JSON.stringify({ [one]: ['a'] }) })).toEqual([]);
      expect(messages({ OIDC_ISSUERS: [{ issuer: one }] })).toEqual([]);
    });

    it('refuses, naming the setting: several issuers and no setting, an untrusted issuer, bad JSON, "*", the old setting', () => {
      expect(messages({ OIDC_ISSUERS: [{ issuer: one }, { issuer: two }] })).toEqual([
        expect.stringMatching(/^ROLE_GROUPS: several issuers are trusted/),
      ]);
      expect(messages({ OIDC_ISSUERS: [{ issuer: one }], ROLE_GROUPS: JSON.stringify({ [two]: ['a'] }) })).toEqual([
        `ROLE_GROUPS: ${two} is not a trusted issuer (OIDC_ISSUERS)`,
      ]);
      expect(messages({ OIDC_ISSUERS: [{ issuer: one }], ROLE_GROUPS: 'admins' })[0]).toMatch(/^ROLE_GROUPS: /);
      expect(messages({ OIDC_ISSUERS: [{ issuer: one }], ROLE_GROUPS: JSON.stringify({ [one]: [] }) })[0]).toMatch(
        /^ROLE_GROUPS: /,
      );
      expect(messages({ OIDC_ISSUERS: [{ issuer: one }], ROLE_GROUPS: JSON.stringify({ [one]: ['*'] }) })).toEqual([
        'ROLE_GROUPS: "*" would grant this role to everyone',
      ]);
      expect(messages({ OIDC_ISSUERS: [{ issuer: one }], ROLE_GROUP: 'admins' })[0]).toMatch(
        /^ROLE_GROUP: replaced by ROLE_GROUPS/,
      );
    });
  });
});
