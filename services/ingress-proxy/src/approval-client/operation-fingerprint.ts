import { createHash } from 'node:crypto';

/*
 * The exact-operation fingerprint an approval is bound to. Unlike policy's statement fingerprint
 * (equal for texts that differ only in literals), this one changes with every byte the upstream
 * would see, so an approver's yes never covers an operation other than the one shown. The
 * encoding is a JSON array: unambiguous, and null stays distinct from ''.
 */

const VERSION = 'airlock-op-v1';

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A SQL message: its text as sent, and the bind parameter values (text form; null is SQL NULL). */
export function sqlOperationFingerprint(sql: string, params: ReadonlyArray<string | null> = []): string {
  return sha256(JSON.stringify([VERSION, 'postgres', sql, params]));
}

/**
 * An HTTP request as it goes upstream: `query` includes its leading "?" (or is empty), `headers`
 * are the forwarded headers that are not volatile (request-headers.ts), sorted by name; an absent
 * body is empty. Another header value, or one more or one fewer, is another operation.
 */
export function httpOperationFingerprint(op: {
  method: string;
  path: string;
  query: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
}): string {
  return sha256(
    JSON.stringify([
      VERSION,
      'http',
      op.method,
      op.path,
      op.query,
      op.headers ?? [],
      sha256(op.body ?? Buffer.alloc(0)),
    ]),
  );
}
