/**
 * JSON string contents as the streams handle them: a latin1 string of the UTF-8 bytes of the
 * decoded value ("logical bytes"). Latin1 maps every byte to one character and back, so
 * unmasked bytes leave exactly as they came, and the ASCII-only detectors see the same text as
 * they would in the decoded JavaScript string.
 */

/** Bytes as latin1 characters, one per byte. */
export function latin1(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end);
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

function hex4(buf: Uint8Array, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = buf[at + k];
    const d = c < 128 ? HEX[c] : -1;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

/** UTF-8 bytes of a code point as latin1 characters (lone surrogates as their 3-byte form). */
function utf8Latin1(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  if (cp < 0x800) return String.fromCharCode(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) {
    return String.fromCharCode(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return String.fromCharCode(
    0xf0 | (cp >> 18),
    0x80 | ((cp >> 12) & 0x3f),
    0x80 | ((cp >> 6) & 0x3f),
    0x80 | (cp & 0x3f),
  );
}

function backslashAt(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === 0x5c) return i;
  return -1;
}

const SIMPLE_ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

export interface Unescaped {
  /** Logical bytes of the decoded content, as latin1. */
  text: string;
  /** Bytes of the input used; less than the input when it ends inside an escape (and not `final`). */
  consumed: number;
}

/**
 * Decodes the raw bytes between a JSON string's quotes. Without `final`, an escape cut off by the
 * end of the input is left for the next call. Returns null for an invalid escape.
 */
export function unescapeJson(buf: Buffer, start: number, end: number, final: boolean): Unescaped | null {
  let slash = backslashAt(buf, start, end);
  if (slash < 0) return { text: latin1(buf, start, end), consumed: end - start };
  let text = '';
  let from = start;
  while (slash >= 0) {
    text += latin1(buf, from, slash);
    if (slash + 1 >= end) {
      if (final) return null;
      return { text, consumed: slash - start };
    }
    const e = buf[slash + 1];
    if (e !== 0x75) {
      const simple = SIMPLE_ESCAPES[e];
      if (simple === undefined) return null;
      text += simple;
      from = slash + 2;
    } else {
      if (slash + 6 > end) {
        if (final) return null;
        return { text, consumed: slash - start };
      }
      let cp = hex4(buf, slash + 2);
      if (cp < 0) return null;
      from = slash + 6;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        // A high surrogate: combine it with a low one that follows; wait for more input if the
        // next escape may be that low surrogate but is not complete yet.
        if (!final && (from === end || (buf[from] === 0x5c && from + 6 > end))) {
          return { text, consumed: slash - start };
        }
        if (from + 6 <= end && buf[from] === 0x5c && buf[from + 1] === 0x75) {
          const low = hex4(buf, from + 2);
          if (low >= 0xdc00 && low <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            from += 6;
          }
        }
      }
      text += utf8Latin1(cp);
    }
    slash = backslashAt(buf, from, end);
  }
  return { text: text + latin1(buf, from, end), consumed: end - start };
}

const NEEDS_ESCAPE = /["\\\x00-\x1f\xed]/;
const SHORT: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };

/**
 * Encodes logical bytes (latin1) as the raw content of a JSON string, also latin1: quotes,
 * backslashes and control characters escaped, lone surrogates (from `\uD800`-style escapes)
 * escaped again, every other byte as it is.
 */
export function escapeJson(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let rep: string | undefined;
    if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = '\\\\';
    else if (c < 0x20) rep = SHORT[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xed && i + 2 < text.length) {
      const b1 = text.charCodeAt(i + 1);
      const b2 = text.charCodeAt(i + 2);
      if (b1 >= 0xa0 && b1 <= 0xbf && b2 >= 0x80 && b2 <= 0xbf) {
        const unit = 0xd000 | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
        out += text.slice(from, i) + `\\u${unit.toString(16)}`;
        i += 2;
        from = i + 1;
        continue;
      }
    }
    if (rep !== undefined) {
      out += text.slice(from, i) + rep;
      from = i + 1;
    }
  }
  return out + text.slice(from);
}
