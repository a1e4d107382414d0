import { z } from 'zod';
import type { Principal } from '@airlock/contracts';
import { jsonSetting } from '@airlock/runtime';

/** In a role setting: every group a token of this issuer carries grants the role. */
export const ANY_GROUP = '*';

/** Which groups grant a role, per trusted issuer: `{"<issuer>": ["<group>", ...]}`. */
export const RoleGroupsSchema = z.record(
  z.string().min(1),
  z.array(z.string().min(1, 'a group name is not empty')).min(1, 'list at least one group'),
);
export type RoleGroupsSetting = z.infer<typeof RoleGroupsSchema>;

/** An environment setting holding {@link RoleGroupsSchema} as JSON; unset means the default of {@link IssuerRole}. */
export function roleGroupsSetting() {
  return jsonSetting(RoleGroupsSchema).optional();
}

interface IssueSink {
  addIssue(issue: { code: 'custom'; path: string[]; message: string }): void;
}

/**
 * The boot check of a role setting against the trusted issuers: every issuer it names must be
 * trusted, and with several trusted issuers it must be set (a group name alone would let any of
 * them grant the role). Problems go to `ctx` named after the setting.
 */
export function checkRoleGroups(
  ctx: IssueSink,
  name: string,
  value: RoleGroupsSetting | undefined,
  issuers: ReadonlyArray<{ issuer: string }> | undefined,
  example: string,
  options: { allowAny?: boolean } = {},
): void {
  if (value !== undefined && !options.allowAny && Object.values(value).some((g) => g.includes(ANY_GROUP))) {
    ctx.addIssue({ code: 'custom', path: [name], message: `"${ANY_GROUP}" would grant this role to everyone` });
  }
  if (!issuers || issuers.length === 0) return;
  const trusted = new Set(issuers.map((i) => i.issuer));
  if (value === undefined) {
    if (trusted.size > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `several issuers are trusted: say which issuer's groups grant this role, e.g. {"${issuers[0].issuer}": ["${example}"]}`,
      });
    }
    return;
  }
  for (const issuer of Object.keys(value)) {
    if (!trusted.has(issuer)) {
      ctx.addIssue({ code: 'custom', path: [name], message: `${issuer} is not a trusted issuer (OIDC_ISSUERS)` });
    }
  }
}

/** A setting that another one replaced: set, it stops the service with a message naming the new one. */
export function replacedSetting(by: string) {
  return z.undefined({ error: `replaced by ${by} (a JSON object: issuer -> groups)` });
}

/**
 * One role (administrator, approver, auditor) as the groups that grant it, per issuer: a group
 * counts only in a token of the issuer it is configured for, so a second trusted issuer cannot
 * mint a token whose group name grants a role. Without a setting and with a single trusted
 * issuer, that issuer's `defaultGroups` grant it (the configuration check refuses a missing
 * setting when several issuers are trusted).
 */
export class IssuerRole {
  private readonly byIssuer: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(
    setting: RoleGroupsSetting | undefined,
    issuers: ReadonlyArray<{ issuer: string }>,
    defaultGroups: readonly string[],
  ) {
    const map = new Map<string, ReadonlySet<string>>();
    if (setting !== undefined) {
      for (const [issuer, groups] of Object.entries(setting)) map.set(issuer, new Set(groups));
    } else if (issuers.length === 1) {
      map.set(issuers[0].issuer, new Set(defaultGroups));
    }
    this.byIssuer = map;
  }

  /** The caller's groups that grant the role (none when its issuer grants it nothing). */
  groupsOf(p: Principal): string[] {
    const granting = this.byIssuer.get(p.issuer);
    if (!granting) return [];
    return granting.has(ANY_GROUP) ? [...p.groups] : p.groups.filter((g) => granting.has(g));
  }

  holds(p: Principal | undefined): boolean {
    return p !== undefined && this.groupsOf(p).length > 0;
  }
}
