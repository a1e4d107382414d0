import { z } from 'zod';
import {
  IdentitySettingsSchema,
  IssuerRole,
  checkRoleGroups,
  replacedSetting,
  roleGroupsSetting,
} from '@airlock/identity';
import { BaseConfigSchema, loadConfig } from '@airlock/runtime';

const DEFAULT_AUDITOR_GROUP = 'airlock-auditors';

const postgresUrl = (name: string) =>
  z.url({ protocol: /^postgres(ql)?$/, error: `${name} must be a postgres:// URL` });
const ms = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);

/** What every recorder process (the service and its command line) needs to reach the store. */
export const RecorderStoreConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8083),
  /**
   * The recorder's own role: INSERT and SELECT on the audit tables, nothing more. The service
   * refuses to start when this role could change or delete audit records.
   */
  DATABASE_URL: postgresUrl('DATABASE_URL'),
  /**
   * The owner of the audit tables: runs migrations, grants the recorder's role its rights, and
   * drops partitions for retention. Optional: without it, migrations run elsewhere (the `migrate`
   * command) and retention is off.
   */
  DATABASE_OWNER_URL: postgresUrl('DATABASE_OWNER_URL').optional(),
  /** PKCS#8 PEM Ed25519 private key that signs checkpoints; kept outside the database. */
  AUDIT_SIGNING_KEY_FILE: z.string().min(1, 'AUDIT_SIGNING_KEY_FILE names the checkpoint signing key file'),
  /** PEM public keys of earlier signing keys, so checkpoints they signed still verify. */
  AUDIT_VERIFY_KEYS_FILE: z.string().min(1).optional(),
  /** Drop day partitions older than this many days (off when unset); needs DATABASE_OWNER_URL. */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).optional(),
});
export type RecorderStoreConfig = z.infer<typeof RecorderStoreConfigSchema>;

export const RecorderConfigSchema = RecorderStoreConfigSchema.extend({
  /** The replay, search and verify API's token verification (OIDC_ISSUERS, OIDC_AUDIENCE, ...). */
  ...IdentitySettingsSchema.shape,
  /**
   * Who may call the replay, search and verify API, per issuer: `{"<issuer>": ["<group>", ...]}`
   * (JSON). A group counts only in a token of its issuer. Unset with a single trusted issuer:
   * its `airlock-auditors`.
   */
  AUDITOR_GROUPS: roleGroupsSetting(),
  AUDITOR_GROUP: replacedSetting('AUDITOR_GROUPS'),
  /**
   * Where a recorder group with no committed offsets starts: `earliest` (the default: nothing
   * audited before the first start is missed) or `latest` (the end of the stream at the first
   * start; from then on the committed position, so a restart never skips anything).
   */
  AUDIT_START_FROM: z.enum(['earliest', 'latest']).default('earliest'),
  /**
   * How long the recorder gathers what it reads before storing it in one transaction: the
   * window's fixed costs (fetches, transaction, commit, offset commit) are shared by every event
   * in it. It is also how long a fetch waits for data, so it bounds what batching adds to the
   * time from publication to the store (about one window and a transaction). The default is
   * where those fixed costs stop dominating at a steady couple of thousand events a second while
   * an event still reaches the store within a third of a second (bench/results/audit-cost-model.md).
   */
  AUDIT_BATCH_WINDOW_MS: ms(1, 5_000, 250),
  /** A window is stored sooner once it holds this many messages. */
  AUDIT_BATCH_MAX_EVENTS: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  /**
   * Audit pipelines in this process: each a consumer of the recorder group with its own
   * connections, windows and transactions, the first on the main thread, the others on worker
   * threads. On two cores shared with Kafka and PostgreSQL a second one stored about a sixth more
   * events a second under a backlog (nine alternating pairs), and cost about a fifth more of the
   * recorder's CPU per event at a steady 2,000 a second (bench/results/audit-cost-model.md): more
   * than one pays where the recorder must catch up fast and has cores to do it with. Each
   * pipeline takes partitions from the others (and from other replicas), so more pipelines than
   * the topic has partitions leave some idle.
   */
  RECORDER_PIPELINES: z.coerce.number().int().min(1).max(6).default(1),
  /** How often the head of every chain that moved is checkpointed (signed). */
  AUDIT_CHECKPOINT_INTERVAL_MS: ms(100, 3_600_000, 10_000),
  /** How often partitions are made ahead and retention runs. */
  AUDIT_MAINTENANCE_INTERVAL_MS: ms(1_000, 86_400_000, 3_600_000),
}).superRefine((c, ctx) => {
  checkRoleGroups(ctx, 'AUDITOR_GROUPS', c.AUDITOR_GROUPS, c.OIDC_ISSUERS, DEFAULT_AUDITOR_GROUP);
  if (c.AUDIT_RETENTION_DAYS !== undefined && c.DATABASE_OWNER_URL === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['AUDIT_RETENTION_DAYS'],
      message: 'retention drops partitions as the table owner: set DATABASE_OWNER_URL too',
    });
  }
});
export type RecorderConfig = z.infer<typeof RecorderConfigSchema>;
export const RECORDER_CONFIG = Symbol('RECORDER_CONFIG');

/** Who may call the replay, search and verify API. */
export function auditorRole(c: Pick<RecorderConfig, 'AUDITOR_GROUPS' | 'OIDC_ISSUERS'>): IssuerRole {
  return new IssuerRole(c.AUDITOR_GROUPS, c.OIDC_ISSUERS, [DEFAULT_AUDITOR_GROUP]);
}

export function recorderConfig(env: Record<string, string | undefined> = process.env): RecorderConfig {
  return loadConfig(RecorderConfigSchema, env);
}

export function recorderStoreConfig(env: Record<string, string | undefined> = process.env): RecorderStoreConfig {
  return loadConfig(RecorderStoreConfigSchema, env);
}
