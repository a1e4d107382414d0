import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LeaseSecret } from '@airlock/contracts';

export type OutgoingHeaders = Record<string, string | string[]>;

/** Credentials an agent may send itself: never forwarded, whatever the connection. */
export const AGENT_CREDENTIAL_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'x-auth-token',
  // An agent's own AWS signature (made with a dummy key) is replaced by the gateway's.
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
];

/** Drops the agent's credentials plus the ones the connection declares. */
export function stripAgentCredentials(headers: OutgoingHeaders, declared: readonly string[] = []): void {
  for (const h of AGENT_CREDENTIAL_HEADERS) delete headers[h];
  for (const h of declared) delete headers[h.toLowerCase()];
}

export interface SigningTarget {
  method: string;
  /** The upstream URL exactly as it will be requested (path already encoded, with query). */
  url: URL;
}

/** Puts the connection's credential on the outgoing request, by kind. */
export async function injectCredential(
  secret: LeaseSecret,
  headers: OutgoingHeaders,
  target: SigningTarget,
): Promise<void> {
  switch (secret.kind) {
    case 'bearer':
      headers.authorization = `Bearer ${secret.token}`;
      return;
    case 'header':
      headers[secret.header] = secret.value;
      return;
    case 'basic':
      headers.authorization = `Basic ${Buffer.from(`${secret.username}:${secret.password}`).toString('base64')}`;
      return;
    case 'aws-sigv4':
      return signAws(secret, headers, target);
    case 'postgres-password':
      throw new Error('a postgres-password credential cannot be used on an HTTP connection');
  }
}

/**
 * Every secret value {@link injectCredential} puts on a request for this credential: what must
 * never come back to the agent, as they are and as they go on the wire (the response scrub also
 * looks for the common encodings of each). An AWS access key id is
 * an identifier, not a secret, and a basic username alone is none either.
 */
export function injectedSecrets(secret: LeaseSecret): string[] {
  switch (secret.kind) {
    case 'bearer':
      return [secret.token];
    case 'header':
      return [secret.value];
    case 'basic': {
      // The pair is on the wire as base64: that form is a secret in its own right, whose own encodings count too.
      const pair = `${secret.username}:${secret.password}`;
      return [secret.password, pair, Buffer.from(pair).toString('base64')];
    }
    case 'aws-sigv4':
      return secret.sessionToken ? [secret.secretAccessKey, secret.sessionToken] : [secret.secretAccessKey];
    case 'postgres-password':
      return [secret.password];
  }
}

/** Headers that take part in the signature; the rest travel unsigned, which SigV4 allows. */
const SIGNED = new Set(['content-type', 'content-md5', 'content-length']);

/**
 * The agent's x-amz-* headers an aws-sigv4 connection forwards and signs (docs/policy-http.md);
 * any other is dropped: ACLs and grants, object lock and governance bypass, tagging, request
 * payer, MFA, website redirects, KMS key choice, ... stay with whoever holds the key.
 */
const AWS_AGENT_HEADERS: ReadonlySet<string> = new Set([
  'x-amz-copy-source',
  'x-amz-copy-source-range',
  'x-amz-copy-source-if-match',
  'x-amz-copy-source-if-none-match',
  'x-amz-copy-source-if-modified-since',
  'x-amz-copy-source-if-unmodified-since',
  'x-amz-metadata-directive',
  'x-amz-storage-class',
  'x-amz-expected-bucket-owner',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-customer-key',
  'x-amz-server-side-encryption-customer-key-md5',
  'x-amz-checksum-algorithm',
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-crc64nvme',
  'x-amz-checksum-sha1',
  'x-amz-checksum-sha256',
  'x-amz-sdk-checksum-algorithm',
  'x-amz-checksum-mode',
]);

/** Whether an aws-sigv4 connection forwards this agent header (anything outside x-amz-* is no AWS option). */
export function awsAgentHeaderAllowed(name: string): boolean {
  if (!name.startsWith('x-amz-')) return true;
  return AWS_AGENT_HEADERS.has(name) || name.startsWith('x-amz-meta-');
}

async function signAws(
  secret: Extract<LeaseSecret, { kind: 'aws-sigv4' }>,
  headers: OutgoingHeaders,
  target: SigningTarget,
): Promise<void> {
  const signer = new SignatureV4({
    service: secret.service,
    region: secret.region,
    credentials: {
      accessKeyId: secret.accessKeyId,
      secretAccessKey: secret.secretAccessKey,
      sessionToken: secret.sessionToken,
    },
    sha256: Hash.bind(null, 'sha256'),
    // S3 signs the path as sent; other services want it escaped once more.
    uriEscapePath: secret.service !== 's3',
    applyChecksum: false,
  });
  const toSign: Record<string, string> = {
    host: target.url.host,
    // The body is streamed through, never buffered to hash it.
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
  };
  for (const [name, value] of Object.entries(headers)) {
    // Only the allowlist is signed, and nothing else of x-amz-* travels: the key holder's choice.
    if (!awsAgentHeaderAllowed(name)) {
      delete headers[name];
      continue;
    }
    if ((SIGNED.has(name) || name.startsWith('x-amz-')) && typeof value === 'string') toSign[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of target.url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signed = await signer.sign({
    method: target.method,
    protocol: target.url.protocol,
    hostname: target.url.hostname,
    port: target.url.port ? Number(target.url.port) : undefined,
    path: target.url.pathname,
    query,
    headers: toSign,
  });
  for (const [name, value] of Object.entries(signed.headers)) {
    if (name === 'host') continue;
    headers[name.toLowerCase()] = value;
  }
}
