/*
 * Text shaping for notifications. Everything in a notice but the links comes from the agent's
 * operation or its token, so it is escaped for the channel and bounded in length before it is sent.
 */

const ELLIPSIS = '…';

/**
 * One line of plain text: control characters (CR and LF among them, and the Unicode line
 * separators) become spaces, runs of white space one space.
 */
export function oneLine(s: string): string {
  return s
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** At most `max` UTF-16 units, cut between code points, with an ellipsis when cut. */
export function truncate(s: string, max: number): string {
  return fitEscaped(s, max, (c) => c);
}

/**
 * Escapes `s` code point by code point and stops before the escaped text would pass `max`
 * UTF-16 units (ellipsis included), so an entity or a surrogate pair is never cut in half.
 */
export function fitEscaped(s: string, max: number, escape: (codePoint: string) => string): string {
  const whole = Array.from(s, escape).join('');
  if (whole.length <= max) return whole;
  let out = '';
  for (const c of s) {
    const e = escape(c);
    if (out.length + e.length + ELLIPSIS.length > max) break;
    out += e;
  }
  return out + ELLIPSIS;
}

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For HTML text and double- or single-quoted attribute values alike. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML[c]);
}

/** Slack's mrkdwn gives `&`, `<` and `>` meaning (links, mentions); the rest is shown as it is. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An http(s) URL as it is; anything else (a `javascript:` link, garbage) is not linked at all. */
export function safeHttpUrl(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : null;
  } catch {
    return null;
  }
}

/** Replaces every occurrence of each secret (a webhook URL, its path, a password) with a marker. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  }
  return out;
}
