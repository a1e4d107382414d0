import { Transform, type TransformCallback } from 'node:stream';
import { addCount, type MaskCounts } from './masker';
import { maskToken } from './rules';

/** The rule under which a scrubbed credential is counted (counts only, never the value). */
export const CREDENTIAL_RULE = 'credential';

/** Shorter values are not scrubbed: they would match everywhere and are no credential anyway. */
export const MIN_SECRET_BYTES = 4;

const TOKEN = Buffer.from(maskToken(CREDENTIAL_RULE));

/**
 * The forms a secret value takes when an upstream reflects it: as it is, base64 and base64url
 * (at each of the three alignments it can have inside a longer encoded text), percent-encoded
 * (upper and lower case hex, `+` for a space) and JSON-escaped (with `/` escaped or not, non-ASCII
 * as `\u` escapes or not). Each is a string whose bytes (UTF-8) are searched for.
 */
export function encodingsOf(secret: string): string[] {
  const raw = Buffer.from(secret, 'utf8');
  const out = new Set<string>([secret]);
  for (let shift = 0; shift < 3; shift++) {
    const shifted = Buffer.concat([Buffer.alloc(shift), raw]);
    for (const alphabet of ['base64', 'base64url'] as const) {
      const full = shifted.toString(alphabet);
      // Characters mixing the secret's bits with unknown neighbours are left out.
      const from = shift === 0 ? 0 : Math.ceil((shift * 8) / 6);
      const end = Math.floor((shifted.length * 8) / 6);
      const core = full.slice(from, end);
      if (core.length > 0) out.add(core);
      if (shift === 0) out.add(full);
    }
  }
  const percent = encodeURIComponent(secret);
  out.add(percent);
  out.add(percent.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  out.add(percent.replace(/%20/g, '+'));
  // Characters encodeURIComponent leaves alone but form encoders escape.
  out.add(percent.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
  const json = JSON.stringify(secret).slice(1, -1);
  out.add(json);
  out.add(json.replace(/\//g, '\\/'));
  const asciiJson = json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  out.add(asciiJson);
  out.add(asciiJson.replace(/\//g, '\\/'));
  return [...out];
}

/**
 * The exact values a gateway put on a request, in every encoding of {@link encodingsOf}, ready
 * to be searched for in a response: built once per credential and shared by its streams.
 *
 * The search is one pass over the bytes: a table of the needles' first two bytes selects the
 * few positions worth comparing, so a body without a candidate costs one table lookup a byte.
 */
export class CredentialNeedles {
  readonly needles: readonly Buffer[];
  readonly maxLength: number;
  /** Needle indexes by their first two bytes (`b0 << 8 | b1`), longest first. */
  private readonly byPair = new Map<number, number[]>();
  private readonly pairs = new Uint8Array(1 << 16);
  /** Needle indexes by their first byte, for the held-back end of a chunk. */
  private readonly byFirst: number[][] = Array.from({ length: 256 }, () => []);

  constructor(secrets: readonly string[]) {
    const seen = new Set<string>();
    const needles: Buffer[] = [];
    for (const secret of secrets) {
      if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) continue;
      for (const form of encodingsOf(secret)) {
        if (Buffer.byteLength(form, 'utf8') < MIN_SECRET_BYTES || seen.has(form)) continue;
        seen.add(form);
        needles.push(Buffer.from(form, 'utf8'));
      }
    }
    needles.sort((a, b) => b.length - a.length);
    this.needles = needles;
    this.maxLength = needles.reduce((m, n) => Math.max(m, n.length), 0);
    needles.forEach((n, i) => {
      const pair = (n[0] << 8) | n[1];
      this.pairs[pair] = 1;
      let list = this.byPair.get(pair);
      if (!list) this.byPair.set(pair, (list = []));
      list.push(i);
      this.byFirst[n[0]].push(i);
    });
  }

  get empty(): boolean {
    return this.needles.length === 0;
  }

  /**
   * Where needles occur in `buf`, as merged [start, end) ranges in order. Overlapping and
   * touching occurrences make one range, so no byte of any occurrence survives.
   */
  find(buf: Uint8Array): Array<[number, number]> {
    const ranges: Array<[number, number]> = [];
    const last = buf.length - 1;
    const pairs = this.pairs;
    for (let i = 0; i < last; i++) {
      if (pairs[(buf[i] << 8) | buf[i + 1]] === 0) continue;
      const end = this.longestAt(buf, i);
      if (end < 0) continue;
      const prev = ranges[ranges.length - 1];
      if (prev && i <= prev[1]) prev[1] = Math.max(prev[1], end);
      else ranges.push([i, end]);
    }
    return ranges;
  }

  /** End of the longest needle that occurs at `at`, or -1. */
  private longestAt(buf: Uint8Array, at: number): number {
    for (const idx of this.byPair.get((buf[at] << 8) | buf[at + 1])!) {
      const n = this.needles[idx];
      if (at + n.length <= buf.length && equalAt(buf, at, n, n.length)) return at + n.length;
    }
    return -1;
  }

  /**
   * Length of the longest end of `buf[from..]` that begins some needle (and is shorter than it):
   * the bytes to hold back until the next chunk says whether the needle is there.
   */
  pendingPrefix(buf: Uint8Array, from: number): number {
    const start = Math.max(from, buf.length - this.maxLength + 1);
    for (let p = start; p < buf.length; p++) {
      const candidates = this.byFirst[buf[p]];
      if (candidates.length === 0) continue;
      const rest = buf.length - p;
      for (const idx of candidates) {
        const n = this.needles[idx];
        if (n.length > rest && equalAt(buf, p, n, rest)) return rest;
      }
    }
    return 0;
  }

  /** Replaces every needle in a whole string (a header value, say); counts what it replaced. */
  scrubString(text: string, counts: MaskCounts): string {
    if (this.empty) return text;
    const buf = Buffer.from(text, 'utf8');
    const ranges = this.find(buf);
    if (ranges.length === 0) return text;
    addCount(counts, CREDENTIAL_RULE, ranges.length);
    return Buffer.concat(replaceRanges(buf, ranges, 0, buf.length)).toString('utf8');
  }

  /** True when a needle occurs in the string. */
  occursIn(text: string): boolean {
    return !this.empty && this.find(Buffer.from(text, 'utf8')).length > 0;
  }
}

function equalAt(buf: Uint8Array, at: number, needle: Uint8Array, length: number): boolean {
  for (let k = 0; k < length; k++) if (buf[at + k] !== needle[k]) return false;
  return true;
}

/** `buf[from..to)` with each range replaced by the token, as pieces (no copy of the rest). */
function replaceRanges(buf: Buffer, ranges: ReadonlyArray<[number, number]>, from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = from;
  for (const [s, e] of ranges) {
    if (s > pos) out.push(buf.subarray(pos, s));
    out.push(TOKEN);
    pos = e;
  }
  if (to > pos) out.push(buf.subarray(pos, to));
  return out;
}

/**
 * Scrubs a byte stream chunk by chunk, split-safe: a needle cut across chunks is caught, since
 * the end of a chunk that begins a needle is held back (at most the longest needle's length)
 * and searched again with the next chunk. Nothing else is held, so a stream that carries no
 * needle prefix at a chunk's end passes with no delay and without a copy.
 */
export class CredentialScrubber {
  private held: Buffer | null = null;

  constructor(
    private readonly needles: CredentialNeedles,
    private readonly counts: MaskCounts,
  ) {}

  /** Bytes held back for the next chunk: always fewer than the longest needle's. */
  get heldBytes(): number {
    return this.held?.length ?? 0;
  }

  write(chunk: Buffer): Buffer[] {
    if (this.needles.empty) return chunk.length > 0 ? [chunk] : [];
    let buf = chunk;
    const out: Buffer[] = [];
    if (this.held) {
      const held = this.held;
      this.held = null;
      // Join only when a needle really crosses the boundary (or may still, in a tiny chunk).
      const head = Buffer.concat([held, chunk.subarray(0, this.needles.maxLength)]);
      const crossing = this.needles.find(head).some(([s]) => s < held.length);
      if (crossing || chunk.length < this.needles.maxLength) buf = Buffer.concat([held, chunk]);
      else out.push(held);
    }
    const ranges = this.needles.find(buf);
    const lastEnd = ranges.length > 0 ? ranges[ranges.length - 1][1] : 0;
    const keep = this.needles.pendingPrefix(buf, lastEnd);
    const cut = buf.length - keep;
    if (ranges.length > 0) addCount(this.counts, CREDENTIAL_RULE, ranges.length);
    out.push(...replaceRanges(buf, ranges, 0, cut));
    if (keep > 0) this.held = Buffer.from(buf.subarray(cut));
    return out;
  }

  end(): Buffer[] {
    const held = this.held;
    this.held = null;
    return held && held.length > 0 ? [held] : [];
  }
}

/** A transform over {@link CredentialScrubber}; its counts are complete once it has ended. */
export class CredentialScrubStream extends Transform {
  readonly counts: MaskCounts = {};
  private readonly scrubber: CredentialScrubber;

  constructor(needles: CredentialNeedles) {
    super();
    this.scrubber = new CredentialScrubber(needles, this.counts);
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
      for (const piece of this.scrubber.write(buf)) this.push(piece);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    for (const piece of this.scrubber.end()) this.push(piece);
    callback();
  }
}
