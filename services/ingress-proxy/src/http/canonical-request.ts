import { isUtf8 } from 'node:buffer';
import type { HttpQueryParam } from '@airlock/contracts';

/*
 * The one canonical form of an agent's request target. Policy judges it and the upstream
 * receives it, byte for byte: the URL sent upstream is built from what this returns, never from
 * what the agent sent. Anything an upstream could read in more than one way is refused rather
 * than guessed at (docs/policy-http.md). One pass over the characters, no regular expressions.
 */

/** How a connection's upstream reads `;` in a path. */
export type PathParameters = 'refuse' | 'literal';

export type Canonical<T> = { ok: true; value: T } | { ok: false; reason: string };

const HEX = '0123456789ABCDEF';

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function unreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

/** Characters a path segment may carry as they are (pchar minus "%" and ";"): sub-delims, ":" and "@". */
function plainPathChar(c: number): boolean {
  // ! $ & ' ( ) * + , = : @
  return (
    unreserved(c) ||
    c === 0x21 ||
    c === 0x24 ||
    c === 0x26 ||
    c === 0x27 ||
    c === 0x28 ||
    c === 0x29 ||
    c === 0x2a ||
    c === 0x2b ||
    c === 0x2c ||
    c === 0x3d ||
    c === 0x3a ||
    c === 0x40
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The byte `%XX` at `i` stands for, or -1 when it is not a well-formed escape. */
function escapedByte(s: string, i: number): number {
  if (i + 2 >= s.length) return -1;
  const hi = hexValue(s.charCodeAt(i + 1));
  const lo = hexValue(s.charCodeAt(i + 2));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

function escape(byte: number): string {
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

function refused<T>(reason: string): Canonical<T> {
  return { ok: false, reason };
}

/**
 * The canonical form of a path below the connection (it starts with "/"): percent-encoded
 * unreserved characters decoded, other escapes in upper case; refused: encoded separators
 * ("/", "\", ";"), double encoding ("%25" followed by two hex digits), NUL and control
 * characters, characters outside RFC 3986, empty segments other than a trailing one, dot
 * segments (also "..;"), and ";" path parameters unless the upstream treats ";" as a literal.
 */
export function canonicalPath(raw: string, semicolons: PathParameters = 'refuse'): Canonical<string> {
  if (raw.length === 0 || raw.charCodeAt(0) !== 0x2f) return refused('the path does not start with "/"');
  let out = '/';
  let segment = '';
  let high = false;
  for (let i = 1; i <= raw.length; i++) {
    const c = i < raw.length ? raw.charCodeAt(i) : 0x2f;
    if (c === 0x2f) {
      const reason = segmentProblem(segment, i === raw.length);
      if (reason) return refused(reason);
      if (i < raw.length) out += `${segment}/`;
      else out += segment;
      segment = '';
      continue;
    }
    if (c === 0x25) {
      const b = escapedByte(raw, i);
      if (b < 0) return refused('malformed percent-encoding in the path');
      i += 2;
      if (unreserved(b)) segment += String.fromCharCode(b);
      else if (b === 0x2f || b === 0x5c) return refused('encoded "/" or "\\" in the path');
      else if (b === 0x3b) {
        if (semicolons === 'refuse') return refused('encoded ";" in the path');
        segment += '%3B';
      } else if (b === 0x25) {
        // "%25" then a hex digit or another escape becomes an escape once decoded again: refused.
        const next = i + 1 < raw.length ? raw.charCodeAt(i + 1) : -1;
        if (next === 0x25 || hexValue(next) >= 0)
          return refused('double percent-encoding ("%25" before an escape) in the path');
        segment += '%25';
      } else if (b < 0x20 || b === 0x7f) return refused('NUL or control character in the path');
      else {
        high ||= b >= 0x80;
        segment += escape(b);
      }
      continue;
    }
    if (c === 0x3b) {
      if (semicolons === 'refuse') return refused('";" path parameters are not allowed on this connection');
      segment += ';';
      continue;
    }
    if (c === 0x5c) return refused('backslash in the path');
    if (c < 0x20 || c === 0x7f) return refused('NUL or control character in the path');
    if (!plainPathChar(c)) return refused(`character ${JSON.stringify(raw[i])} is not allowed in a path`);
    segment += raw[i];
  }
  // Overlong or broken UTF-8 ("%C0%AE" is "." to some decoders) is refused.
  if (high && !isUtf8(percentDecoded(out))) return refused('the path is not valid UTF-8 once decoded');
  return { ok: true, value: out };
}

function percentDecoded(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i) === 0x25 ? escapedByte(s, i) : -1;
    if (b >= 0) {
      bytes.push(b);
      i += 2;
    } else bytes.push(s.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

function segmentProblem(segment: string, last: boolean): string | undefined {
  if (segment.length === 0) return last ? undefined : 'empty path segment';
  // "..;x" is ".." to a server that strips parameters; ".." is ".." to everyone.
  const semi = segment.indexOf(';');
  const bare = semi < 0 ? segment : segment.slice(0, semi);
  if (bare === '.' || bare === '..') return 'dot segment in the path';
  return undefined;
}

/** Decodes a query name or value: escapes must be well formed; "+" is a space (HTML forms). */
function decodeQueryPart(s: string): string | undefined {
  let bytes: number[] | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 || c === 0x2b || c > 0x7e || c < 0x21) {
      bytes = [];
      break;
    }
  }
  if (!bytes) return s;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const b = escapedByte(s, i);
      if (b < 0) return undefined;
      bytes.push(b);
      i += 2;
    } else if (c === 0x2b) bytes.push(0x20);
    else if (c < 0x21 || c > 0x7e) return undefined;
    else bytes.push(c);
  }
  const text = Buffer.from(bytes).toString('utf8');
  // Invalid UTF-8 (it would come back as U+FFFD) or control characters are refused.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd || c < 0x20 || c === 0x7f) return undefined;
  }
  return text;
}

/** Encodes a decoded query name or value: everything but unreserved characters is escaped. */
export function encodeQueryPart(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length && plain; i++) plain = unreserved(s.charCodeAt(i));
  if (plain) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += unreserved(b) ? String.fromCharCode(b) : escape(b);
  return out;
}

export interface CanonicalQuery {
  params: HttpQueryParam[];
  /** The query as sent upstream: "" or "?" followed by the parameters. */
  text: string;
}

const MAX_PARAMS = 256;

/**
 * The canonical form of a query string (with or without its leading "?"): parameters decoded
 * for policy and re-encoded one way for the upstream, in their order; empty pieces ("&&") are
 * dropped. Malformed escapes, invalid UTF-8, control characters and empty names are refused.
 */
export function canonicalQuery(raw: string): Canonical<CanonicalQuery> {
  const q = raw.startsWith('?') ? raw.slice(1) : raw;
  const params: HttpQueryParam[] = [];
  let text = '';
  let start = 0;
  while (start <= q.length) {
    let end = q.indexOf('&', start);
    if (end < 0) end = q.length;
    if (end > start) {
      const piece = q.slice(start, end);
      const eq = piece.indexOf('=');
      const name = decodeQueryPart(eq < 0 ? piece : piece.slice(0, eq));
      const value = eq < 0 ? undefined : decodeQueryPart(piece.slice(eq + 1));
      if (name === undefined || (eq >= 0 && value === undefined)) {
        return refused('malformed query string (bad percent-encoding, invalid UTF-8 or a control character)');
      }
      if (name.length === 0) return refused('a query parameter has no name');
      if (name.length > 1024 || (value?.length ?? 0) > 8192) return refused('a query parameter is too long');
      if (params.length === MAX_PARAMS) return refused(`more than ${MAX_PARAMS} query parameters`);
      params.push(value === undefined ? { name } : { name, value });
      text += `${text ? '&' : '?'}${encodeQueryPart(name)}${value === undefined ? '' : `=${encodeQueryPart(value)}`}`;
    }
    start = end + 1;
  }
  return { ok: true, value: { params, text } };
}
