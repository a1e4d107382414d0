import { z } from 'zod';
import {
  ConnectionNameSchema,
  CredentialKindSchema,
  ProtocolSchema,
  VaultLeaseReplySchema,
  type CredentialKind,
  type Protocol,
} from '@airlock/contracts';

export const DEFAULT_AGENT_CREDENTIAL_HEADERS = ['authorization'];

/** Which credential kinds fit which protocol. */
const KINDS_BY_PROTOCOL: Record<Protocol, readonly CredentialKind[]> = {
  http: ['bearer', 'header', 'basic', 'aws-sigv4'],
  postgres: ['postgres-password'],
};

const SCHEMES_BY_PROTOCOL: Record<Protocol, readonly string[]> = {
  http: ['http:', 'https:'],
  postgres: ['postgres:', 'postgresql:'],
};

/** Query parameters that would carry a credential inside the upstream URL. */
const CREDENTIAL_PARAM = /pass|secret|token|key|auth|sig|credential/i;

const HeaderNameSchema = z
  .string()
  .transform((h) => h.trim().toLowerCase())
  .pipe(z.string().regex(/^[a-z0-9-]{1,64}$/, 'header names are 1-64 of [a-z0-9-]'));

/** `POST /connections`. Secrets are set separately, with `PUT /connections/:name/secret`. */
export const CreateConnectionSchema = z
  .object({
    name: ConnectionNameSchema,
    protocol: ProtocolSchema,
    upstream: z.string().min(1).max(2048),
    credentialKind: CredentialKindSchema,
    agentCredentialHeaders: z
      .array(HeaderNameSchema)
      .max(32)
      .transform((hs) => [...new Set(hs)])
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!KINDS_BY_PROTOCOL[c.protocol].includes(c.credentialKind)) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentialKind'],
        message: `a ${c.protocol} connection takes one of ${KINDS_BY_PROTOCOL[c.protocol].join(', ')}`,
      });
    }
    const problem = upstreamProblem(c.protocol, c.upstream);
    if (problem) ctx.addIssue({ code: 'custom', path: ['upstream'], message: problem });
  });
export type CreateConnection = z.infer<typeof CreateConnectionSchema>;

/** Why an upstream URL is refused, or undefined. Never quotes the URL: it may hold what it must not. */
export function upstreamProblem(protocol: Protocol, upstream: string): string | undefined {
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    return 'must be an absolute URL';
  }
  // What a lease reply may carry: a connection whose upstream fails it could never be leased.
  if (!VaultLeaseReplySchema.shape.upstream.safeParse(upstream).success) return 'must be an absolute URL';
  if (!SCHEMES_BY_PROTOCOL[protocol].includes(url.protocol)) {
    return `a ${protocol} connection's upstream starts with ${SCHEMES_BY_PROTOCOL[protocol].map((s) => `${s}//`).join(' or ')}`;
  }
  if (url.hostname === '') return 'must name a host';
  if (url.username !== '' || url.password !== '') {
    return 'must not contain credentials (user:password@); set them with PUT /connections/:name/secret';
  }
  if (url.hash !== '') return 'must not contain a fragment';
  for (const key of url.searchParams.keys()) {
    if (CREDENTIAL_PARAM.test(key)) {
      return 'must not carry credentials in its query; set them with PUT /connections/:name/secret';
    }
  }
  return undefined;
}
