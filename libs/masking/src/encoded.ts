/**
 * Secrets inside encoded values: a base64 value (a Kubernetes Secret's `data`, a file from the
 * GitHub contents API, a Docker config's `auth`) or a URL-encoded one (a connection string in a
 * query parameter) is decoded and scanned with the same detectors; when they find something, the
 * whole encoded value is masked, under the rule of what was found inside.
 *
 * The prefilter decides when to look: the base64 forms of the detectors' anchors (in each of the
 * three alignments a string can take in base64) and a few URL-encoded forms (`%3A%2F%2F`,
 * `password%3D`, ...) are anchors of their own, so a text without any of them costs nothing more.
 */
import { anchorCost } from './anchors';
import type { Detector } from './detectors';
import type { MaskingEngine, Span } from './masker';

/** The prefilter bit of the encoded-value scan. */
export const ENCODED_BIT = 1 << 30;
/** The longest encoded value decoded inside a line of a text stream (whole values have no limit but their own length). */
export const ENCODED_RUN_MAX = 8192;
/** The shortest base64 value worth decoding: 12 bytes. */
const BASE64_RUN_MIN = 16;
/** The share of printable ASCII a decoded value needs to be taken for text. */
const PRINTABLE_SHARE = 0.9;

/**
 * Fragments made only of common letter pairs and trigrams (`OVE5`) would slow the filter on every
 * text and send ordinary words to the decoder: they are left out, at the price of that one
 * alignment of that one spelling.
 */
const FRAGMENT_COST_MAX = 200;

/** URL-encoded forms worth decoding: a connection string, JSON, a secret-naming parameter, a PEM block. */
const URL_ESCAPES = [
  '%3A%2F%2F',
  '%7B%22',
  'password%3D',
  'token%3D',
  'secret%3D',
  'key%3D',
  '-----BEGIN%20',
  '-----BEGIN+',
];

const BASE64_CHAR = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') BASE64_CHAR[c.charCodeAt(0)] = 1;
/** Characters of a URL-encoded value (unreserved characters, `%` and `+`). */
const URL_CHAR = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%._~+-') URL_CHAR[c.charCodeAt(0)] = 1;

/**
 * The parts of `text`'s base64 encoding that do not depend on what comes before or after it, in
 * each alignment (0, 1 or 2 bytes before it in its group of three), in both base64 alphabets.
 */
export function base64Fragments(text: string): string[] {
  const bytes = Buffer.from(text, 'latin1');
  const out = new Set<string>();
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes]);
    const encoded = padded.toString('base64');
    // Character j holds bits [6j, 6j + 6): it is fixed when they all fall inside `text`.
    const fragment = encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * padded.length) / 6));
    if (fragment.length >= 4) {
      out.add(fragment);
      out.add(fragment.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...out];
}

/** The spellings an anchor is encoded in: as written, and for a lower-case word (a key name) also upper case. */
function spellings(text: string): string[] {
  if (!/^[a-z_-]+$/.test(text)) return [text];
  return [text, text.toUpperCase()];
}

/** Anchors of the encoded-value scan for a set of detectors. */
export function encodedAnchors(detectors: readonly Detector[]): string[] {
  const out = new Set<string>(URL_ESCAPES);
  for (const d of detectors) {
    for (const anchor of d.encoded ?? d.anchors) {
      if (anchor.length < 3) continue;
      for (const spelling of spellings(anchor)) {
        for (const f of base64Fragments(spelling)) if (anchorCost(f) <= FRAGMENT_COST_MAX) out.add(f);
      }
    }
  }
  return [...out];
}

function printable(text: string): boolean {
  let ok = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09) ok++;
  }
  return ok >= text.length * PRINTABLE_SHARE;
}

/** Whether a decoded value holds something the engine masks; the rule of the first find, or null. */
function ruleInside(engine: MaskingEngine, decoded: string, depth: number): string | null {
  if (decoded.length === 0 || !printable(decoded)) return null;
  const hits = engine.prefilter(decoded);
  if (hits === 0) return null;
  const spans = engine.findSpans(decoded, hits, true, depth + 1);
  return spans.length > 0 ? spans[0].rule : null;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** Percent-decodes (and `+` to space) a URL-encoded value into a latin1 string of its bytes; null without an escape. */
function percentDecode(text: string): string | null {
  let out = '';
  let escapes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && i + 2 < text.length) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out += String.fromCharCode(hi * 16 + lo);
        escapes++;
        i += 2;
        continue;
      }
    }
    out += c === 0x2b ? ' ' : text[i];
  }
  return escapes > 0 ? out : null;
}

/** A wrapped base64 value without its line breaks (real ones, or `\n` escapes). */
export function unwrap(text: string): string {
  return text.replace(/\\[nr]|[\r\n]/g, '');
}

/**
 * Whether a whole value is wrapped base64 (a file from the GitHub contents API, a MIME part): its
 * first characters are base64 and line breaks. Such a value is decoded whole, whatever anchors the
 * line breaks hid from the prefilter.
 */
export function wrappedBase64(text: string): boolean {
  const head = Math.min(text.length, 96);
  let newline = false;
  for (let i = 0; i < head; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) newline = true;
    else if (c !== 0x0d && c !== 0x3d && (c >= 256 || BASE64_CHAR[c] === 0)) return false;
  }
  return newline || text.indexOf('\n', head) >= 0;
}

/** The same test on the raw bytes of a JSON string (line breaks as `\n` escapes), before decoding it. */
export function mayBeWrappedBase64(bytes: Uint8Array, start: number, end: number): boolean {
  const head = Math.min(end, start + 96);
  for (let i = start; i < head; i++) {
    const c = bytes[i];
    if (c === 0x5c) {
      const e = bytes[i + 1];
      if (e !== 0x6e && e !== 0x72) return false;
      i++;
    } else if (c !== 0x3d && BASE64_CHAR[c] === 0) {
      return false;
    }
  }
  return true;
}

/**
 * Finds encoded values in `text` that hold a secret and adds a span over each whole value.
 * In a piece of a stream (`whole` false) a value ends at a line break, so every span stays on
 * one line; in a whole value, base64 may run over line breaks (MIME and the GitHub contents API
 * wrap it) and is decoded as one.
 */
export function findEncoded(engine: MaskingEngine, text: string, whole: boolean, depth: number, out: Span[]): void {
  const n = text.length;
  const max = whole ? n : ENCODED_RUN_MAX;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 256 || (BASE64_CHAR[c] === 0 && c !== 0x25)) {
      i++;
      continue;
    }
    // A base64 run (over line breaks in whole values), then its padding.
    let j = i;
    let breaks = false;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d < 256 && BASE64_CHAR[d] === 1) {
        j++;
      } else if (whole && (d === 0x0a || d === 0x0d || d === 0x5c)) {
        // Line breaks, also as the two characters `\n` of a JSON-escaped value in a text.
        let k = j;
        while (k < n && k - j < 4) {
          const e = text.charCodeAt(k);
          if (e === 0x0a || e === 0x0d) k++;
          else if (e === 0x5c && (text.charCodeAt(k + 1) === 0x6e || text.charCodeAt(k + 1) === 0x72)) k += 2;
          else break;
        }
        if (k === j || k >= n || BASE64_CHAR[text.charCodeAt(k)] !== 1) break;
        breaks = true;
        j = k;
      } else {
        break;
      }
    }
    let end = j;
    while (end < n && end - j < 2 && text.charCodeAt(end) === 0x3d) end++;
    // A wrapped value's final line break belongs to it.
    if (breaks) while (end < n && (text.charCodeAt(end) === 0x0a || text.charCodeAt(end) === 0x0d)) end++;
    if (end - i >= BASE64_RUN_MIN && end - i <= max) {
      const run = text.slice(i, end);
      const compact = breaks ? unwrap(run) : run;
      // A whole value that is all base64 is decoded whatever the prefilter saw (wrapped values
      // hide anchors behind line breaks); a run inside a text needs an encoded anchor.
      const all = whole && i === 0 && end === n;
      if (all || (engine.automaton.scan(compact) & ENCODED_BIT) !== 0) {
        const rule = ruleInside(engine, Buffer.from(compact, 'base64').toString('latin1'), depth);
        if (rule !== null) out.push({ start: i, end, rule, open: false });
      }
    }
    // A URL-encoded value around the same place: from i over unreserved characters and escapes.
    if (j === i || text.charCodeAt(j) === 0x25 || text.charCodeAt(j) === 0x2e || text.charCodeAt(j) === 0x7e) {
      let k = i;
      while (k < n && k - i < max) {
        const d = text.charCodeAt(k);
        if (d >= 256 || URL_CHAR[d] === 0) break;
        k++;
      }
      if (k - i >= 6) {
        const run = text.slice(i, k);
        if (run.includes('%') && (engine.automaton.scan(run) & ENCODED_BIT) !== 0) {
          const decoded = percentDecode(run);
          const rule = decoded === null ? null : ruleInside(engine, decoded, depth);
          if (rule !== null) out.push({ start: i, end: k, rule, open: false });
        }
        j = Math.max(j, k);
      }
    }
    i = Math.max(end, j, i + 1);
  }
}
