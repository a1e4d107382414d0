import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { KafkaAuth } from '@airlock/messaging';
import { MessageSigner, TrustedKeys } from '@airlock/sealing';

/** A setting that is missing or malformed. The message names every setting at fault. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment once at boot into a typed object. Nothing else reads process.env.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const problems = kafkaAuthProblems(result.data as Partial<BaseConfig>);
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

/** A secret given as a file (a mounted Kubernetes secret, a file under .local/): its content, trimmed. */
export function secretFile(what: string) {
  return z.string().transform((path, ctx): string => {
    try {
      const value = readFileSync(path, 'utf8').trim();
      if (value.length === 0) ctx.addIssue({ code: 'custom', message: `${what} file ${path} is empty` });
      return value;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `cannot read ${what} file ${path}: ${(err as Error).message}` });
      return z.NEVER;
    }
  });
}

/**
 * SIGNING_KEY_FILE: the service's Ed25519 private key (PEM, PKCS#8), kept outside the database;
 * what the service answers on Kafka is signed with it. Rotate by pointing at a new file once
 * every verifier trusts its public key (docs/security.md).
 */
export function signingKeyFile(signer: string) {
  return secretFile('signing key').transform((pem, ctx): MessageSigner => {
    try {
      return MessageSigner.fromPem(signer, pem);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/**
 * TRUSTED_KEYS_FILE: the public keys of the services whose signatures this one accepts,
 * `{"keys": [{"signer": "policy", "publicKey": "-----BEGIN PUBLIC KEY-----..."}]}`, several per
 * signer during a rotation. `signers`: the services that must have at least one key in it.
 */
export function trustedKeysFile(signers: readonly string[]) {
  return z.string().transform((path, ctx): TrustedKeys => {
    let keys: TrustedKeys;
    try {
      keys = TrustedKeys.fromJson(readFileSync(path, 'utf8'));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `${path}: ${(err as Error).message}` });
      return z.NEVER;
    }
    const missing = signers.filter((s) => !keys.signers().includes(s));
    if (missing.length > 0) ctx.addIssue({ code: 'custom', message: `${path} trusts no key of ${missing.join(', ')}` });
    return keys;
  });
}

function kafkaAuthProblems(config: Partial<BaseConfig>): string[] {
  if (!('KAFKA_BROKERS' in config)) return [];
  const problems: string[] = [];
  const password = config.KAFKA_SASL_PASSWORD !== undefined || config.KAFKA_SASL_PASSWORD_FILE !== undefined;
  if (config.KAFKA_SASL_PASSWORD !== undefined && config.KAFKA_SASL_PASSWORD_FILE !== undefined) {
    problems.push(
      'KAFKA_SASL_PASSWORD_FILE: give the Kafka password either in a file or in KAFKA_SASL_PASSWORD, not both',
    );
  }
  if (config.KAFKA_SASL_USERNAME !== undefined && !password) {
    problems.push(
      'KAFKA_SASL_PASSWORD_FILE: KAFKA_SASL_USERNAME is set but no password (KAFKA_SASL_PASSWORD_FILE or KAFKA_SASL_PASSWORD)',
    );
  }
  if (config.KAFKA_SASL_USERNAME === undefined && password) {
    problems.push('KAFKA_SASL_USERNAME: a Kafka password is set but no user name');
  }
  if (config.KAFKA_TLS_CA_FILE !== undefined && !config.KAFKA_TLS) {
    problems.push('KAFKA_TLS: KAFKA_TLS_CA_FILE is set but TLS is off (KAFKA_TLS=true)');
  }
  return problems;
}

/** How a service reaches Kafka: brokers, its SASL/SCRAM credential, TLS. */
export function kafkaConnection(config: BaseConfig): KafkaAuth & { brokers: string[] } {
  const password = config.KAFKA_SASL_PASSWORD_FILE ?? config.KAFKA_SASL_PASSWORD;
  const sasl =
    config.KAFKA_SASL_USERNAME !== undefined && password !== undefined
      ? { mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_SASL_USERNAME, password }
      : undefined;
  const ssl = config.KAFKA_TLS ? (config.KAFKA_TLS_CA_FILE ? { ca: [config.KAFKA_TLS_CA_FILE] } : true) : undefined;
  return { brokers: config.KAFKA_BROKERS, sasl, ssl };
}

/** Settings every service shares. */
export const BaseConfigSchema = z.object({
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:19092')
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    )
    .refine((l) => l.length > 0, 'at least one broker'),
  /** The service's SASL/SCRAM principal on the broker (docs/security.md). */
  KAFKA_SASL_USERNAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
  /** Its password, read from a file (preferred: it never shows in the environment). */
  KAFKA_SASL_PASSWORD_FILE: secretFile('Kafka password').optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256']).default('scram-sha-512'),
  /** TLS to the brokers (required wherever Kafka is reached over a network). */
  KAFKA_TLS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** The CA that signed the brokers' certificates (PEM); the system's CAs when absent. */
  KAFKA_TLS_CA_FILE: secretFile('Kafka CA').optional(),
  /** Distinguishes several instances of one service (reply consumer groups, lease sealing). */
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
  /** Prefix of Kafka consumer group ids, so a test run never joins a running system's groups. */
  KAFKA_GROUP_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*$/)
    .default('airlock'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Origins of the web console (docs/console.md), comma-separated, e.g. `http://127.0.0.1:8090`:
   * browsers there may call this service's admin API. None by default.
   */
  CONSOLE_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .refine(
      (origins) => origins.every(isOrigin),
      'each origin is scheme://host[:port] (http or https), without a path, e.g. http://127.0.0.1:8090',
    ),
  /**
   * Base URL of an OTLP/HTTP collector (spans go to `<url>/v1/traces`, JSON). Unset, no span is
   * made anywhere (docs/observability.md).
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
});
export type BaseConfig = z.infer<typeof BaseConfigSchema>;

/** A JSON-valued setting, parsed and checked by `schema`. */
export function jsonSetting<S extends z.ZodType>(schema: S) {
  return z.string().transform((raw, ctx): z.infer<S> => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
      return z.NEVER;
    }
    const r = schema.safeParse(value);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: `${i.path.join('.')}: ${i.message}` });
      return z.NEVER;
    }
    return r.data;
  });
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}
