import { z } from 'zod';
import { IdentitySettingsSchema } from '@airlock/identity';
import { BaseConfigSchema, jsonSetting, loadConfig, signingKeyFile, trustedKeysFile } from '@airlock/runtime';

const ms = (def: number) => z.coerce.number().int().min(1).max(600000).default(def);

export const IngressConfigSchema = BaseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  ...IdentitySettingsSchema.shape,
  CONNECTIONS_FILE: z.string().min(1, 'CONNECTIONS_FILE must name the YAML connections file'),
  POLICY_TIMEOUT_MS: ms(2000),
  VAULT_TIMEOUT_MS: ms(2000),
  /** A lease is renewed this long before it expires, and never used closer to its end. */
  LEASE_REFRESH_MARGIN_MS: ms(5000),
  AUDIT_TIMEOUT_MS: ms(3000),
  /**
   * Events published after the answer (outcomes, reads recorded when they end) may wait this long
   * to share a produce request: nobody waits for them, and the broker's cost is per request.
   */
  AUDIT_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(50),
  /**
   * Least time between the starts of two audit produce requests. Under load an operation that
   * must be on the stream before it runs waits at most this long for its request (it goes at once
   * when the last one started longer ago), and each request carries what arrived meanwhile.
   */
  AUDIT_REQUEST_INTERVAL_MS: z.coerce.number().int().min(0).max(100).default(5),
  /**
   * Reads are audited after they end (one event each). While more of those events than this wait
   * for the broker's acknowledgement, new reads are audited first, like writes: a stalled stream
   * stops the gateway within a bounded number of unrecorded operations.
   */
  AUDIT_MAX_UNACKNOWLEDGED: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  UPSTREAM_TIMEOUT_MS: ms(30000),
  DECISION_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10000),
  DECISION_CACHE_TTL_MS: ms(60000),
  /** Processes sharing the listening port; more than one uses more cores. */
  INGRESS_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).max(4096).default(128),
  /** PostgreSQL listener; unset means the gateway does not speak PostgreSQL. */
  PG_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PG_HOST: z.string().min(1).optional(),
  /** Certificate and key (PEM) of the PostgreSQL listener: agents send their token as a password, so TLS is required. */
  PG_TLS_CERT_FILE: z.string().min(1).optional(),
  PG_TLS_KEY_FILE: z.string().min(1).optional(),
  /** CA bundle (PEM) that upstream servers' certificates are checked against with sslmode=verify-full. */
  PG_UPSTREAM_CA_FILE: z.string().min(1).optional(),
  /** Deadline of the whole start-up, from the connection to the password (TLS included), not of each read. */
  PG_STARTUP_TIMEOUT_MS: ms(10000),
  /** Largest start-up packet or password message before authentication (a JWT must fit; start-up packets stop at 10000). */
  PG_MAX_STARTUP_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
  PG_UPSTREAM_CONNECT_TIMEOUT_MS: ms(10000),
  /** Largest message an agent may send (a statement, a bound value, a COPY chunk). */
  PG_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /** The longest statement text (Query or Parse) the gateway classifies; longer ones are refused with 54000. */
  PG_MAX_STATEMENT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  PG_MAX_SESSIONS: z.coerce.number().int().min(1).max(100000).default(1000),
  /** Sessions one principal (issuer + subject) may hold at once in one ingress process. */
  PG_MAX_SESSIONS_PER_PRINCIPAL: z.coerce.number().int().min(1).max(100000).default(20),
  /** Sessions on one connection at once in one ingress process: keep it below the upstream's max_connections. */
  PG_MAX_SESSIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(100000).default(80),
  /** Deadline of one question to the approval service (it answers at once; people decide later). */
  APPROVAL_TIMEOUT_MS: ms(2000),
  /** How long an HTTP request policy sent for review is held before the agent gets 202 and retries. */
  APPROVAL_HTTP_WAIT_MS: z.coerce.number().int().min(0).max(600000).default(30000),
  /** Retry-After (seconds) of that 202. */
  APPROVAL_RETRY_AFTER_S: z.coerce.number().int().min(1).max(3600).default(5),
  /** A held HTTP request's body is kept in memory (the approver's yes covers exactly those bytes): its limit. */
  APPROVAL_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024),
  /** Requests held for approval at once in one ingress process; more are refused (503) until some end. */
  APPROVAL_MAX_HELD_REQUESTS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** Bytes of held request bodies together in one ingress process; past it, 503. */
  APPROVAL_MAX_HELD_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024 * 1024)
    .default(256 * 1024 * 1024),
  /**
   * Connections whose upstream may set cookies on the agent (comma-separated names). Elsewhere an
   * upstream's Set-Cookie is dropped: a session minted with the gateway's credential is itself one.
   */
  HTTP_SET_COOKIE_CONNECTIONS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    ),
  /** How long an MCP tool call held for a person waits (with progress) before it answers pending. */
  MCP_APPROVAL_WAIT_MS: z.coerce.number().int().min(0).max(600000).default(20000),
  /**
   * Origins (scheme://host[:port], comma-separated) whose browser pages may call /mcp. A request
   * with any other Origin is refused 403 (DNS rebinding); a request without Origin (not a browser) passes.
   */
  MCP_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((n) => n.trim().replace(/\/$/, '').toLowerCase())
        .filter(Boolean),
    ),
  /** This gateway's public base URL (https://airlock.example.com): names the protected resource in 401s and RFC 9728 metadata. */
  MCP_PUBLIC_URL: z.url().optional(),
  /** The connections the MCP server offers (list_connections shows those policy lets the caller use). */
  MCP_CONNECTIONS: jsonSetting(
    z.array(
      z
        .object({
          name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
          protocol: z.enum(['http', 'postgres']),
          description: z.string().max(1000).default(''),
        })
        .strict(),
    ),
  ).default([]),
  /** Largest JSON-RPC request body /mcp reads (checked before authentication). */
  MCP_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  /** Largest HTTP response body an http_request tool result carries (the rest is cut, `truncated`). */
  MCP_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  /** Most rows a query tool result carries per statement (the caller may ask for fewer). */
  MCP_MAX_ROWS: z.coerce.number().int().min(1).max(100000).default(1000),
  ALLOW_INSECURE_JWKS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** This instance's Ed25519 identity key: it signs lease requests (and the sealing key in them). */
  SIGNING_KEY_FILE: signingKeyFile('ingress-proxy'),
  /** The policy, vault and approval services' public keys: no decision, lease or approval is acted on without a valid signature. */
  TRUSTED_KEYS_FILE: trustedKeysFile(['policy', 'credential-vault', 'approval']),
});
export type IngressConfig = z.infer<typeof IngressConfigSchema>;

const PostgresSettingsCheck = IngressConfigSchema.superRefine((c, ctx) => {
  if (c.PG_PORT !== undefined && (!c.PG_TLS_CERT_FILE || !c.PG_TLS_KEY_FILE)) {
    ctx.addIssue({
      code: 'custom',
      path: ['PG_TLS_CERT_FILE'],
      message: 'PG_PORT needs PG_TLS_CERT_FILE and PG_TLS_KEY_FILE: agents authenticate with a token, only over TLS',
    });
  }
});
export const INGRESS_CONFIG = Symbol('INGRESS_CONFIG');

export function ingressConfig(): IngressConfig {
  return loadConfig(PostgresSettingsCheck);
}
