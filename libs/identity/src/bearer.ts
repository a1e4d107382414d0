import type { IncomingHttpHeaders } from 'node:http';

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The caller's token: `Authorization: Bearer <jwt>`, or `Proxy-Authorization: Bearer <jwt>` for
 * clients whose Authorization header belongs to the upstream protocol (an AWS SDK signs it with
 * SigV4). Null when neither carries one.
 */
export function bearerToken(headers: IncomingHttpHeaders): string | null {
  for (const value of [headers.authorization, headers['proxy-authorization']]) {
    const m = typeof value === 'string' ? BEARER.exec(value) : null;
    if (m) return m[1];
  }
  return null;
}
