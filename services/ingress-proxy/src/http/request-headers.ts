import type { IncomingHttpHeaders } from 'node:http';
import { AGENT_CREDENTIAL_HEADERS, type OutgoingHeaders } from '../credentials/credential-injector';

/*
 * Which of the agent's headers go upstream. Headers that make an upstream (or a proxy in front
 * of it) act on another method or URL than the one policy judged are never forwarded: they are
 * dropped, or the request is refused when the connection says so. docs/policy-http.md lists them.
 */

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

/** Headers some servers and frameworks read as another method or URL, or as the client's address. */
export const REWRITE_HEADERS: ReadonlySet<string> = new Set([
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  'x-original-url',
  'x-original-uri',
  'x-rewrite-url',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
]);

/** `X-Forwarded-*` (Host, Proto, Prefix, Port, For, Uri, ...): only the gateway says where a request came from. */
export function isRewriteHeader(name: string): boolean {
  return REWRITE_HEADERS.has(name) || name.startsWith('x-forwarded-');
}

/**
 * Headers that differ between two sends of the same operation without changing what it does:
 * left out of the approval fingerprint, so that a retry of an approved request matches it.
 * content-length is covered by the body hash; accept-encoding may be set by the gateway.
 */
export const VOLATILE_HEADERS: ReadonlySet<string> = new Set([
  'date',
  'user-agent',
  'traceparent',
  'tracestate',
  'baggage',
  'x-request-id',
  'x-correlation-id',
  'x-amzn-trace-id',
  'x-amz-date',
  'x-amz-user-agent',
  'amz-sdk-invocation-id',
  'amz-sdk-request',
  'x-airlock-session-id',
  'content-length',
  'accept-encoding',
  'connection',
  'expect',
]);

export type RewriteHeaders = 'drop' | 'refuse';

export type FilteredHeaders = { ok: true; headers: OutgoingHeaders } | { ok: false; reason: string };

/**
 * The agent's headers as they may go upstream: without hop-by-hop headers, credentials (the
 * gateway's own and those the connection declares) and rewrite headers (dropped, or the request
 * refused); `keep` decides on the rest (S3 connections keep only their allowlist).
 */
export function filterRequestHeaders(
  incoming: IncomingHttpHeaders,
  opts: { agentCredentialHeaders: readonly string[]; rewrite: RewriteHeaders; keep?: (name: string) => boolean },
): FilteredHeaders {
  const credentials = new Set([
    ...AGENT_CREDENTIAL_HEADERS,
    ...opts.agentCredentialHeaders.map((h) => h.toLowerCase()),
  ]);
  const headers: OutgoingHeaders = {};
  for (const name of Object.keys(incoming)) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || credentials.has(name)) continue;
    if (isRewriteHeader(name)) {
      if (opts.rewrite === 'refuse') {
        return { ok: false, reason: `the ${name} header is not allowed on this connection` };
      }
      continue;
    }
    if (opts.keep && !opts.keep(name)) continue;
    headers[name] = value;
  }
  return { ok: true, headers };
}

/** The headers policy sees: names lower case, repeated values joined. */
export function policyHeaders(headers: OutgoingHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** The headers an approval is bound to: the forwarded ones that are not volatile, sorted by name. */
export function fingerprintHeaders(headers: OutgoingHeaders): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of Object.keys(headers).sort()) {
    if (VOLATILE_HEADERS.has(name)) continue;
    const v = headers[name];
    out.push([name, Array.isArray(v) ? v.join(', ') : v]);
  }
  return out;
}
