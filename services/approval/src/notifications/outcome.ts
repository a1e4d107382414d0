import { truncateText } from '@airlock/contracts';
import { oneLine, truncate } from './text';

/**
 * What one attempt to notify came to. `rate-limited` waits (not an attempt), `retry` is tried
 * again with backoff until the attempts are spent, `permanent` is given up at once.
 */
export type SendOutcome =
  | { kind: 'delivered' }
  | { kind: 'rate-limited'; waitMs: number; reason: string }
  | { kind: 'retry'; reason: string }
  | { kind: 'permanent'; reason: string };

/** Without a usable Retry-After, a 429 waits this long. */
export const DEFAULT_RETRY_AFTER_MS = 1000;
/**
 * Bounds of a Retry-After wait. The lower one keeps a server that answers 429 with
 * `Retry-After: 0` from being called in a tight loop; the upper one keeps a wrong header from
 * stopping notifications for hours (the wait holds the whole queue).
 */
export const MIN_RETRY_AFTER_MS = 1000;
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** The longest reason kept (the audit event allows 500 characters). */
export const MAX_REASON_LENGTH = 300;

/**
 * Milliseconds a `Retry-After` header asks to wait: delay-seconds or an HTTP date (RFC 9110
 * §10.2.3), bounded; the default when the header is missing or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number,
  bounds: { defaultMs?: number; minMs?: number; maxMs?: number } = {},
): number {
  const { defaultMs = DEFAULT_RETRY_AFTER_MS, minMs = MIN_RETRY_AFTER_MS, maxMs = MAX_RETRY_AFTER_MS } = bounds;
  const clamp = (ms: number): number => Math.min(maxMs, Math.max(minMs, Math.ceil(ms)));
  const v = value?.trim();
  if (!v) return clamp(defaultMs);
  if (/^\d+$/.test(v)) return clamp(Number(v) * 1000);
  // Date.parse also reads ISO strings and bare numbers with signs; an HTTP date names a weekday.
  if (/^[A-Za-z]{3},/.test(v)) {
    const at = Date.parse(v);
    if (Number.isFinite(at)) return clamp(at - now);
  }
  return clamp(defaultMs);
}

/** A reason fit for a log line, a delivery record and the audit: one short line. */
export function reasonText(s: string): string {
  return truncate(oneLine(s), MAX_REASON_LENGTH);
}

/**
 * A webhook's answer. 2xx delivered; 429 waits as told; 408 and 5xx are the server's trouble
 * and retried; any other answer (a revoked webhook's 404, a 400 for the payload, a redirect)
 * will not change by itself and is given up.
 */
export function httpOutcome(status: number, retryAfter: string | null, body: string, now: number): SendOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const said = truncateText(oneLine(body), 100);
  const reason = reasonText(`HTTP ${status}${said ? `: ${said}` : ''}`);
  if (status === 429) return { kind: 'rate-limited', waitMs: parseRetryAfter(retryAfter, now), reason };
  if (status === 408 || status >= 500) return { kind: 'retry', reason };
  return { kind: 'permanent', reason };
}

/** The first `code` on an error or its chain of causes (fetch hides the socket's under `cause`). */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A webhook call that got no answer: refused, reset, unresolvable, timed out. All retried.
 * The reason names the error code only: messages may carry the address called.
 */
export function networkOutcome(err: unknown, timeoutMs: number): SendOutcome {
  // Not `instanceof Error`: fetch's timeout is a DOMException, from another realm under test runners.
  const raw = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  const name = typeof raw === 'string' ? raw : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { kind: 'retry', reason: `no answer within ${timeoutMs} ms` };
  }
  return { kind: 'retry', reason: `network error (${errorCode(err) ?? (name || 'unknown')})` };
}

interface SmtpErrorFields {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  response?: unknown;
  name?: unknown;
  cause?: unknown;
}

/** Error codes of nodemailer that no retry mends: the message or the settings are wrong. */
const PERMANENT_SMTP_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'ENOAUTH', 'ECONFIG', 'EMAXRECIPIENTS']);

/**
 * An SMTP send that failed. A 5xx reply refuses for good (RFC 5321 §4.2.1), except 503 (bad
 * sequence of commands), which says the conversation went wrong rather than that the message
 * is refused; a 4xx reply is transient. Without a reply (refused connection, timeout, TLS, a
 * dropped socket) it is retried, unless nodemailer itself says the message or the settings are
 * wrong.
 */
export function smtpOutcome(err: unknown, timeoutMs: number): SendOutcome {
  const e: SmtpErrorFields = typeof err === 'object' && err !== null ? err : {};
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (typeof e.responseCode === 'number') {
    const said = typeof e.response === 'string' ? truncateText(oneLine(e.response), 120) : '';
    const text = said.startsWith(String(e.responseCode)) ? said : `${e.responseCode}${said ? ` ${said}` : ''}`;
    const reason = reasonText(`SMTP ${text}`);
    if (e.responseCode >= 500 && e.responseCode !== 503) return { kind: 'permanent', reason };
    return { kind: 'retry', reason };
  }
  if (code === 'EABORT' || e.name === 'AbortError' || e.name === 'TimeoutError') {
    return { kind: 'retry', reason: `SMTP conversation not finished within ${timeoutMs} ms` };
  }
  if (code && PERMANENT_SMTP_CODES.has(code)) return { kind: 'permanent', reason: `SMTP ${code}` };
  const under = typeof e.originalCode === 'string' ? e.originalCode : errorCode(e.cause);
  return { kind: 'retry', reason: `SMTP ${code ?? 'error'}${under && under !== code ? ` (${under})` : ''}` };
}
