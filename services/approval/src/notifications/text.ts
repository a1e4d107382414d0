/*
 * Text shaping for notifications. Everything in a notice but the links comes from the agent's
 * operation or its token, so it is escaped for the channel and bounded in length before it is sent.
 */

const ELLIPSIS = '…';

/**
 * Characters that change how text around them looks without showing themselves: C0 and C1
 * controls (newline and tab aside), the bidirectional embeddings, overrides and isolates and
 * the direction marks, zero-width characters, the line and paragraph separators, the word
 * joiner and invisible operators, the byte order mark and the interlinear annotation marks.
 * A `\u` already in the text is escaped too, so what is shown escaped is never ambiguous.
 */
const INVISIBLE =
  /\\u|\r\n|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/**
 * The text as an approver must see it: every character of {@link INVISIBLE} written as a
 * `\uXXXX` escape (CR LF read as a newline), everything else as it is. For display only: the
 * approval covers the exact text, whose fingerprint is taken elsewhere.
 */
export function showInvisible(s: string): string {
  return s.replace(INVISIBLE, (c) => {
    if (c === '\\u') return '\\\\u';
    if (c === '\r\n') return '\n';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * One line of plain text: line breaks (the Unicode ones too) and tabs become spaces, runs of
 * white space one space, and the other invisible characters are shown escaped
 * ({@link showInvisible}). Apply it once: a second pass would escape the escapes.
 */
export function oneLine(s: string): string {
  return showInvisible(s.replace(/[\n\t\r\u000b\u000c\u0085\u2028\u2029]/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

/** The note under a cut operation: the approval covers all of it, and the link shows all of it. */
export function cutNote(whole: number): string {
  return `Cut: this shows the start of an operation of ${whole} characters; the approval covers all of it.`;
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
