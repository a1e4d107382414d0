import { z } from 'zod';

export const PrincipalSchema = z.object({
  issuer: z.string().min(1).describe('Issuer (iss) of the OIDC token.'),
  subject: z.string().min(1).describe('Subject (sub) of the token: the agent or administrator.'),
  groups: z.array(z.string()).describe('Groups of the token.'),
});
export type Principal = z.infer<typeof PrincipalSchema>;

export const ProtocolSchema = z.enum(['http', 'postgres']);
export type Protocol = z.infer<typeof ProtocolSchema>;

/**
 * The protocol an agent used, as the audit trail records it: an upstream protocol, or `mcp` when the
 * agent called a tool of the gateway's MCP server (the operation itself is then `http` or
 * `postgres`, as policy judged it).
 */
export const AuditProtocolSchema = z.enum(['http', 'postgres', 'mcp']);
export type AuditProtocol = z.infer<typeof AuditProtocolSchema>;

/** MCP tool names the gateway serves (the names are part of its contract with agents). */
export const McpToolNameSchema = z.enum([
  'list_connections',
  'describe_database',
  'query',
  'http_request',
  'approval_status',
]);
export type McpToolName = z.infer<typeof McpToolNameSchema>;

export const DecisionSchema = z.enum(['allow', 'deny', 'review']);
export type Decision = z.infer<typeof DecisionSchema>;

/** Connection names appear in URLs and PostgreSQL database names. */
export const ConnectionNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'connection names are 1-63 of [a-z0-9_-], starting with a letter or digit');

const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const IdSchema = z.string().regex(UUID_LIKE, 'expected a UUID');
/**
 * A UUIDv7 (RFC 9562): its first 48 bits are the Unix time in milliseconds. Audit event ids must
 * be v7, because the audit store is partitioned by the time they carry.
 */
export const UuidV7Schema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'expected a UUIDv7');
export const IsoTimeSchema = z.iso.datetime({ offset: true });

/**
 * The Ed25519 signature of the service that wrote a message that decides something
 * (libs/sealing signing.ts): which service, which of its keys, over what (topic, correlation id,
 * the message without this field, in canonical JSON).
 */
export const MessageSignatureSchema = z
  .object({
    alg: z.literal('Ed25519'),
    signer: z.string().min(1).max(64),
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    sig: z.string().min(1).max(200),
  })
  .describe('Ed25519 signature by the service that wrote the message; checked before the message is acted on.');
export type MessageSignatureContract = z.infer<typeof MessageSignatureSchema>;
