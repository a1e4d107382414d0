import { z } from 'zod';
import {
  IdentitySettingsSchema,
  IssuerRole,
  checkRoleGroups,
  replacedSetting,
  roleGroupsSetting,
} from '@airlock/identity';
import { BaseConfigSchema, loadConfig, signingKeyFile, trustedKeysFile } from '@airlock/runtime';

/** Key ids name a key-encryption key in every record it protects; they appear in messages and audit events. */
export const KeyIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'key ids are 1-64 of [A-Za-z0-9_.:-], starting with a letter or digit');

const ms = (def: number) => z.coerce.number().int().min(1).max(600000).default(def);

/**
 * What every vault process needs to reach the store: the database, Kafka (audit) and the
 * key-encryption keys. The rewrap command reads exactly these.
 */
export const VaultStoreConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8084),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a postgres:// URL' }),
  /** JSON key file `{"current": "<keyId>", "keys": {"<keyId>": "<base64 32 bytes>"}}`, not world-readable. */
  VAULT_KEK_FILE: z.string().min(1).optional(),
  /** One key-encryption key, base64 of 32 bytes; the alternative to VAULT_KEK_FILE. */
  VAULT_KEK: z.string().min(1).optional(),
  /** The key id of VAULT_KEK; `local-1` unless set. */
  VAULT_KEK_ID: KeyIdSchema.optional(),
  /** Broker acknowledgement deadline for audit and rotation events. */
  AUDIT_TIMEOUT_MS: ms(3000),
});
export type VaultStoreConfig = z.infer<typeof VaultStoreConfigSchema>;

export const VaultConfigSchema = VaultStoreConfigSchema.extend({
  /** The admin API's token verification (OIDC_ISSUERS, OIDC_AUDIENCE, ...). */
  ...IdentitySettingsSchema.shape,
  /**
   * Who may call the admin API, per issuer: `{"<issuer>": ["<group>", ...]}` (JSON). A group
   * counts only in a token of its issuer. Unset with a single trusted issuer: its `airlock-admins`.
   */
  VAULT_ADMIN_GROUPS: roleGroupsSetting(),
  VAULT_ADMIN_GROUP: replacedSetting('VAULT_ADMIN_GROUPS'),
  /** How long an ingress may use a lease before asking again. */
  VAULT_LEASE_TTL_SECONDS: z.coerce.number().int().min(5).max(86400).default(300),
  /** The vault's Ed25519 key: it signs every lease reply. */
  SIGNING_KEY_FILE: signingKeyFile('credential-vault'),
  /** The ingress instances' public keys: a lease is sealed only to a key an ingress listed here signed for. */
  TRUSTED_KEYS_FILE: trustedKeysFile(['ingress-proxy']),
}).superRefine((c, ctx) => {
  checkRoleGroups(ctx, 'VAULT_ADMIN_GROUPS', c.VAULT_ADMIN_GROUPS, c.OIDC_ISSUERS, DEFAULT_ADMIN_GROUP);
});
export type VaultConfig = z.infer<typeof VaultConfigSchema>;

export const VAULT_CONFIG = Symbol('VAULT_CONFIG');

export const DEFAULT_ADMIN_GROUP = 'airlock-admins';

/** Who may call the admin API. */
export function adminRole(c: Pick<VaultConfig, 'VAULT_ADMIN_GROUPS' | 'OIDC_ISSUERS'>): IssuerRole {
  return new IssuerRole(c.VAULT_ADMIN_GROUPS, c.OIDC_ISSUERS, [DEFAULT_ADMIN_GROUP]);
}

export function vaultConfig(env: Record<string, string | undefined> = process.env): VaultConfig {
  return loadConfig(VaultConfigSchema, env);
}

export function vaultStoreConfig(env: Record<string, string | undefined> = process.env): VaultStoreConfig {
  return loadConfig(VaultStoreConfigSchema, env);
}
