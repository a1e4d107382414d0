/**
 * Masking rule names as policies write them, and the configuration they resolve to.
 *
 * A policy rule lists names such as `secrets`, `pii`, `github-token` or `field:ssn`;
 * {@link resolveMaskingRules} turns them into the field names and detector ids a
 * {@link Masker} is built from. Unknown names are an error, never silently ignored: a typo in
 * a policy must not switch masking off.
 */

/** Detectors for credentials and keys, in priority order (earlier wins when two start together). */
export const SECRET_DETECTOR_IDS = [
  'private-key',
  'google-service-account',
  'aws-access-key-id',
  'aws-session-token',
  'github-token',
  'gitlab-token',
  'atlassian-token',
  'circleci-token',
  'buildkite-token',
  'npm-token',
  'pypi-token',
  'rubygems-token',
  'nuget-key',
  'docker-hub-token',
  'crates-io-token',
  'jfrog-token',
  'slack-token',
  'slack-webhook',
  'discord-bot-token',
  'discord-webhook',
  'telegram-bot-token',
  'teams-webhook',
  'sendgrid-key',
  'mailgun-key',
  'mailchimp-key',
  'brevo-key',
  'twilio-key',
  'stripe-key',
  'square-token',
  'braintree-token',
  'shopify-token',
  'newrelic-key',
  'sentry-dsn',
  'sentry-token',
  'grafana-token',
  'honeycomb-key',
  'dynatrace-token',
  'vault-token',
  'doppler-token',
  'onepassword-token',
  'infisical-token',
  'digitalocean-token',
  'flyio-token',
  'terraform-token',
  'pulumi-token',
  'databricks-token',
  'linear-key',
  'notion-token',
  'postman-key',
  'age-secret-key',
  'anthropic-key',
  'openai-key',
  'google-api-key',
  'google-oauth-token',
  'huggingface-token',
  'groq-key',
  'replicate-token',
  'perplexity-key',
  'xai-key',
  'azure-storage-key',
  'azure-sas-token',
  'jwt',
  'postmark-token',
  'vonage-key',
  'datadog-key',
  'heroku-key',
  'linode-token',
  'hetzner-token',
  'cloudflare-key',
  'fastly-token',
  'netlify-token',
  'vercel-token',
  'cohere-key',
  'mistral-key',
  'aws-secret-access-key',
  'uri-password',
  'basic-auth',
  'bearer-token',
  'secret-assignment',
] as const;

/** Detectors for personal data; off unless a policy asks for them. */
export const PII_DETECTOR_IDS = ['email', 'payment-card', 'iban', 'us-ssn', 'phone-number'] as const;

export type SecretDetectorId = (typeof SECRET_DETECTOR_IDS)[number];
export type PiiDetectorId = (typeof PII_DETECTOR_IDS)[number];
export type DetectorId = SecretDetectorId | PiiDetectorId;

/** Every detector id, in priority order. */
export const DETECTOR_IDS: readonly DetectorId[] = [...SECRET_DETECTOR_IDS, ...PII_DETECTOR_IDS];

/** Field names whose values are masked whatever they hold (matched after normalisation). */
export const DEFAULT_FIELD_NAMES: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'secret_key',
  'client_secret',
  'api_key',
  'x-api-key',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth_token',
  'session_token',
  'private_key',
  'secret_access_key',
  'aws_secret_access_key',
  'authorization',
  'proxy_authorization',
  'credentials',
  'credential',
  'cookie',
  'set-cookie',
  'connection_string',
];

/** Names a policy may use for several rules at once. */
export const MASKING_BUNDLES = ['secrets', 'default', 'pii', 'fields'] as const;

export interface MaskingConfig {
  /** Field names (any case, `-`/`_` ignored) whose values are masked at any depth of a JSON body. */
  fieldNames: string[];
  /**
   * Database columns as `schema.table.column` (lower case) whose values are masked in query
   * results, matched by the table and column a result column comes from.
   */
  columns?: string[];
  /** Detector ids run over every string value and text body. */
  detectors: string[];
}

/** A masking rule name that is not a bundle, a detector id or a `field:<name>`. */
export class MaskingRuleError extends Error {
  constructor(
    readonly rule: string,
    detail: string,
  ) {
    super(`masking rule "${rule}": ${detail}`);
    this.name = 'MaskingRuleError';
  }
}

const FIELD_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const COLUMN_PART = /^[a-z_][a-z0-9_$]{0,62}$/;

/**
 * Checks a `column:[schema.]table.column` rule and returns `schema.table.column`; an unqualified
 * table is in `public`. Names are compared as PostgreSQL stores unquoted identifiers: lower case.
 */
export function checkColumnRule(rule: string): string {
  const parts = rule.slice('column:'.length).split('.');
  if (parts.length === 2) parts.unshift('public');
  if (parts.length !== 3 || !parts.every((p) => COLUMN_PART.test(p))) {
    throw new MaskingRuleError(rule, 'a column rule is column:[schema.]table.column, lower-case identifiers');
  }
  return parts.join('.');
}

/** The rule name a column rule reports in counts and masks. */
export function columnRuleId(qualified: string): string {
  return `column:${qualified}`;
}

/**
 * The form field names are compared in: ASCII letters lowercased, `-` and `_` removed, so
 * `apiKey`, `API-KEY` and `api_key` are all `apikey`. Non-ASCII letters are left as they are,
 * which keeps the comparison the same on decoded strings and on raw UTF-8 bytes.
 */
export function normaliseFieldName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2d || c === 0x5f) continue;
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c | 0x20) : name[i];
  }
  return out;
}

/** The rule name a field rule reports in counts and masks: `field:<normalised name>`. */
export function fieldRuleId(name: string): string {
  return `field:${normaliseFieldName(name)}`;
}

/** The text that replaces a masked value. It never contains a quote or a backslash. */
export function maskToken(rule: string): string {
  return `[MASKED:${rule}]`;
}

const DETECTOR_SET = new Set<string>(DETECTOR_IDS);

export function isDetectorId(name: string): name is DetectorId {
  return DETECTOR_SET.has(name);
}

/** Checks one field name from a policy or a config and returns it normalised. */
export function checkFieldName(rule: string, name: string): string {
  if (!FIELD_NAME.test(name)) {
    throw new MaskingRuleError(rule, 'a field name is 1 to 128 characters of letters, digits, "_", "-" or "."');
  }
  const normalised = normaliseFieldName(name);
  if (normalised.length === 0) throw new MaskingRuleError(rule, 'the field name is only "-" and "_"');
  return normalised;
}

/**
 * Maps policy masking rule names to a configuration:
 * - `secrets` (or `default`): every secret detector and the default field names;
 * - `pii`: the e-mail, payment card, IBAN, US social security number and phone number detectors;
 * - `fields`: the default field names only;
 * - a detector id (`github-token`, `jwt`, ...): that detector;
 * - `field:<name>`: that field name (for database results: a column of that name);
 * - `column:[schema.]table.column`: that database column, wherever a result takes it from.
 *
 * Field names come back normalised and both lists without duplicates, detectors in priority order.
 */
export function resolveMaskingRules(names: readonly string[]): MaskingConfig {
  const fields = new Set<string>();
  const detectors = new Set<string>();
  const columns = new Set<string>();
  const addDefaultFields = () => DEFAULT_FIELD_NAMES.forEach((f) => fields.add(normaliseFieldName(f)));
  for (const name of names) {
    if (name === 'secrets' || name === 'default') {
      SECRET_DETECTOR_IDS.forEach((d) => detectors.add(d));
      addDefaultFields();
    } else if (name === 'pii') {
      PII_DETECTOR_IDS.forEach((d) => detectors.add(d));
    } else if (name === 'fields') {
      addDefaultFields();
    } else if (isDetectorId(name)) {
      detectors.add(name);
    } else if (name.startsWith('field:')) {
      fields.add(checkFieldName(name, name.slice('field:'.length)));
    } else if (name.startsWith('column:')) {
      columns.add(checkColumnRule(name));
    } else {
      throw new MaskingRuleError(
        name,
        `unknown rule; expected one of ${MASKING_BUNDLES.join(', ')}, field:<name>, column:[schema.]table.column, or a detector id (${DETECTOR_IDS.join(', ')})`,
      );
    }
  }
  return {
    fieldNames: [...fields],
    detectors: DETECTOR_IDS.filter((d) => detectors.has(d)),
    ...(columns.size > 0 ? { columns: [...columns] } : {}),
  };
}
