import type { IncomingHttpHeaders } from 'node:http';
import type { HttpOperation } from '@airlock/contracts';
import type { HttpSettings } from '../connections/connection.registry';
import { awsAgentHeaderAllowed, type OutgoingHeaders } from '../credentials/credential-injector';
import { canonicalPath, canonicalQuery } from './canonical-request';
import { filterRequestHeaders, policyHeaders } from './request-headers';
import { copySourceHeader, deriveS3Operation } from './s3-operation';

/** What is known of a connection before its request is read. */
export interface ConnectionView {
  settings: HttpSettings;
  /** Credential headers the connection declares (the vault's): never forwarded. */
  agentCredentialHeaders: readonly string[];
  /** The credential is an AWS SigV4 key: only allowlisted x-amz-* headers go upstream. */
  aws: boolean;
  /** The upstream is S3 (SigV4 for service s3): the request is read as an S3 operation. */
  s3: boolean;
}

/** The one form of a request that policy judges and the upstream receives. */
export interface CanonicalRequest {
  /** For policy, with the forwarded headers (audit events leave them out). */
  operation: HttpOperation;
  /** Path below the connection and query ("" or "?..."), exactly as sent upstream. */
  path: string;
  query: string;
  /** The agent's headers that go upstream. */
  headers: OutgoingHeaders;
}

export type CanonicalResult =
  | { ok: true; request: CanonicalRequest }
  | { ok: false; status: 400 | 414; code: string; reason: string };

const MAX_PATH = 8192;

/** Reads the agent's request into its canonical form, or says why it is refused. */
export function canonicalOperation(
  method: string,
  rawPath: string,
  rawQuery: string,
  rawHeaders: IncomingHttpHeaders,
  conn: ConnectionView,
): CanonicalResult {
  const pathParameters = conn.settings.pathParameters ?? (conn.s3 ? 'literal' : 'refuse');
  const path = canonicalPath(rawPath, pathParameters);
  if (!path.ok) return { ok: false, status: 400, code: 'bad_path', reason: `refused: ${path.reason}` };
  if (path.value.length > MAX_PATH) {
    return { ok: false, status: 414, code: 'uri_too_long', reason: `the path is longer than ${MAX_PATH} characters` };
  }
  const query = canonicalQuery(rawQuery);
  if (!query.ok) return { ok: false, status: 400, code: 'bad_query', reason: `refused: ${query.reason}` };
  const filtered = filterRequestHeaders(rawHeaders, {
    agentCredentialHeaders: conn.agentCredentialHeaders,
    rewrite: conn.settings.rewriteHeaders ?? 'drop',
    keep: conn.aws ? awsAgentHeaderAllowed : undefined,
  });
  if (!filtered.ok) return { ok: false, status: 400, code: 'bad_header', reason: `refused: ${filtered.reason}` };
  const headers = filtered.headers;

  let s3: HttpOperation['s3'];
  if (conn.s3) {
    const derived = deriveS3Operation(method, path.value, query.value.params, headers);
    if (!derived.ok) return { ok: false, status: 400, code: 'bad_s3_request', reason: `refused: ${derived.reason}` };
    s3 = derived.s3;
    // The copy source goes upstream in the one encoding policy judged.
    if (s3.copySource) headers['x-amz-copy-source'] = copySourceHeader(s3.copySource);
  }
  const caseSensitive = (conn.settings.pathCase ?? (conn.s3 ? 'sensitive' : 'insensitive')) === 'sensitive';
  const operation: HttpOperation = {
    kind: 'http',
    method,
    path: path.value,
    ...(query.value.params.length > 0 ? { query: query.value.params } : {}),
    ...(caseSensitive ? { caseSensitive } : {}),
    ...(s3 ? { s3 } : {}),
    headers: policyHeaders(headers),
  };
  return { ok: true, request: { operation, path: path.value, query: query.value.text, headers } };
}

/** The operation as audit events carry it: without the query and header values (docs/siem.md). */
export function auditedHttpOperation(operation: HttpOperation): Omit<HttpOperation, 'headers' | 'query'> {
  const { headers: _headers, query: _query, ...audited } = operation;
  return audited;
}
