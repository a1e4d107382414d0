import { z } from 'zod';
import {
  IdentitySettingsSchema,
  IssuerRole,
  checkRoleGroups,
  replacedSetting,
  roleGroupsSetting,
} from '@airlock/identity';
import { BaseConfigSchema, loadConfig, signingKeyFile } from '@airlock/runtime';

export const PolicyConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  POLICY_FILE: z.string().min(1, 'POLICY_FILE must name the YAML policy document'),
  /** The policy service's Ed25519 key: it signs every decision. */
  SIGNING_KEY_FILE: signingKeyFile('policy'),
  /**
   * Token verification for the admin routes that need a person (document, validate, dry run).
   * Optional: without OIDC_ISSUERS those routes answer 401 and the rest works as before.
   */
  ...IdentitySettingsSchema.partial().shape,
  /** Who may read the policy document and ask for dry runs, per issuer (JSON); unset with one issuer: its `airlock-admins`. */
  POLICY_ADMIN_GROUPS: roleGroupsSetting(),
  POLICY_ADMIN_GROUP: replacedSetting('POLICY_ADMIN_GROUPS'),
}).superRefine((c, ctx) => {
  if (c.OIDC_ISSUERS !== undefined && c.OIDC_AUDIENCE === undefined) {
    ctx.addIssue({ code: 'custom', path: ['OIDC_AUDIENCE'], message: 'required when OIDC_ISSUERS is set' });
  }
  if (c.OIDC_ISSUERS === undefined && c.POLICY_ADMIN_GROUPS !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['POLICY_ADMIN_GROUPS'],
      message: 'needs OIDC_ISSUERS (the issuers it names)',
    });
  }
  checkRoleGroups(ctx, 'POLICY_ADMIN_GROUPS', c.POLICY_ADMIN_GROUPS, c.OIDC_ISSUERS, DEFAULT_POLICY_ADMIN_GROUP);
});
export type PolicyConfig = z.infer<typeof PolicyConfigSchema>;
export const POLICY_CONFIG = Symbol('POLICY_CONFIG');

export const DEFAULT_POLICY_ADMIN_GROUP = 'airlock-admins';

/** Who may use the admin routes that need a person's token. */
export function policyAdminRole(c: Pick<PolicyConfig, 'POLICY_ADMIN_GROUPS' | 'OIDC_ISSUERS'>): IssuerRole {
  return new IssuerRole(c.POLICY_ADMIN_GROUPS, c.OIDC_ISSUERS ?? [], [DEFAULT_POLICY_ADMIN_GROUP]);
}

export function policyConfig(): PolicyConfig {
  return loadConfig(PolicyConfigSchema);
}
