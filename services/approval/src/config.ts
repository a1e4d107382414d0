import { z } from 'zod';
import {
  ANY_GROUP,
  IdentitySettingsSchema,
  IssuerRole,
  checkRoleGroups,
  replacedSetting,
  roleGroupsSetting,
} from '@airlock/identity';
import { BaseConfigSchema, loadConfig, signingKeyFile } from '@airlock/runtime';

const ms = (def: number) => z.coerce.number().int().min(1).max(600000).default(def);
const flag = (def: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(def)
    .transform((v) => v === 'true');
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

export const ApprovalConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8082),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a postgres:// URL' }),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'REDIS_URL must be a redis:// URL' }),
  /** Approvers' token verification (OIDC_ISSUERS, OIDC_AUDIENCE, ...). */
  ...IdentitySettingsSchema.shape,
  /** Base URL approvers reach this service (or a console in front of it) at; links in notifications start here. */
  APPROVAL_PUBLIC_URL: z.url({ error: 'APPROVAL_PUBLIC_URL must be an http(s) URL' }).optional(),
  /** HMAC key of the signed single-use links in notifications: base64 of at least 32 bytes. */
  APPROVAL_LINK_KEY: z
    .string()
    .refine((s) => Buffer.from(s, 'base64').length >= 32, 'APPROVAL_LINK_KEY must be base64 of at least 32 bytes'),
  /** An approved one-time approval lets its operation run only this long after the approval. */
  APPROVAL_USE_WITHIN_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
  /** How often pending approvals are queued again (notifications, expiry) in case Redis lost them or was down. */
  APPROVAL_RESWEEP_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /**
   * Who sees failed notifications and every approval, per issuer: `{"<issuer>": ["<group>"]}`
   * (JSON). A group counts only in a token of its issuer. Unset with a single trusted issuer:
   * its `airlock-admins`.
   */
  APPROVAL_ADMIN_GROUPS: roleGroupsSetting(),
  APPROVAL_ADMIN_GROUP: replacedSetting('APPROVAL_ADMIN_GROUPS'),
  /**
   * Which issuer's groups may stand for the approver groups policy names, per issuer:
   * `{"<issuer>": ["dba", "sre"]}`, or `["*"]` for every group of that issuer. A policy's
   * `approverGroups: [dba]` is met only by a token whose issuer is configured for `dba`. Unset
   * with a single trusted issuer: all of its groups.
   */
  APPROVAL_APPROVER_GROUPS: roleGroupsSetting(),
  /** Broker acknowledgement deadline for audit and decision events. */
  AUDIT_TIMEOUT_MS: ms(3000),
  /** Slack incoming-webhook URL; unset: no Slack notifications. */
  SLACK_WEBHOOK_URL: z.url({ error: 'SLACK_WEBHOOK_URL must be an http(s) URL' }).optional(),
  /** SMTP server, smtp://[user:pass@]host:port or smtps://...; unset: no e-mail notifications. */
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'SMTP_URL must be an smtp:// or smtps:// URL' }).optional(),
  EMAIL_FROM: z.string().min(3).default('airlock@localhost'),
  /** Recipients of approval e-mails, comma-separated. */
  EMAIL_TO: list,
  /** Attempts per notification before it is given up (a permanent refusal is not retried at all). */
  NOTIFY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** First retry delay; doubles with every attempt, with jitter. */
  NOTIFY_BACKOFF_MS: ms(1000),
  /** Per-attempt deadline of a webhook call or an SMTP conversation. */
  NOTIFY_TIMEOUT_MS: ms(10000),
  /** Redis key prefix of the BullMQ queues (notifications, expiry): one per deployment sharing a Redis. */
  APPROVAL_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'APPROVAL_QUEUE_PREFIX is 1-64 of [A-Za-z0-9_.:-]')
    .default('airlock'),
  /** Notifications sent per second at most, by all workers together. */
  NOTIFY_MAX_PER_SECOND: z.coerce.number().int().min(1).max(10000).default(20),
  /** Run the BullMQ workers (notifications, expiry) in this process. */
  APPROVAL_WORKERS: flag('true'),
  /** The approval service's Ed25519 key: it signs every approval reply and decision. */
  SIGNING_KEY_FILE: signingKeyFile('approval'),
}).superRefine((c, ctx) => {
  checkRoleGroups(ctx, 'APPROVAL_ADMIN_GROUPS', c.APPROVAL_ADMIN_GROUPS, c.OIDC_ISSUERS, DEFAULT_ADMIN_GROUP);
  checkRoleGroups(ctx, 'APPROVAL_APPROVER_GROUPS', c.APPROVAL_APPROVER_GROUPS, c.OIDC_ISSUERS, 'approvers', {
    allowAny: true,
  });
});
export type ApprovalConfig = z.infer<typeof ApprovalConfigSchema>;

export const APPROVAL_CONFIG = Symbol('APPROVAL_CONFIG');

const DEFAULT_ADMIN_GROUP = 'airlock-admins';

/** Who sees failed notifications and every approval. */
export function adminRole(c: Pick<ApprovalConfig, 'APPROVAL_ADMIN_GROUPS' | 'OIDC_ISSUERS'>): IssuerRole {
  return new IssuerRole(c.APPROVAL_ADMIN_GROUPS, c.OIDC_ISSUERS, [DEFAULT_ADMIN_GROUP]);
}

/** Whose groups stand for the approver groups a policy names. */
export function approverRole(c: Pick<ApprovalConfig, 'APPROVAL_APPROVER_GROUPS' | 'OIDC_ISSUERS'>): IssuerRole {
  return new IssuerRole(c.APPROVAL_APPROVER_GROUPS, c.OIDC_ISSUERS, [ANY_GROUP]);
}

export function approvalConfig(env: Record<string, string | undefined> = process.env): ApprovalConfig {
  return loadConfig(ApprovalConfigSchema, env);
}

/** Where approvers find this service: APPROVAL_PUBLIC_URL, or the address it listens on. */
export function publicUrl(config: ApprovalConfig): string {
  return (config.APPROVAL_PUBLIC_URL ?? `http://${config.HTTP_HOST}:${config.HTTP_PORT}`).replace(/\/+$/, '');
}
