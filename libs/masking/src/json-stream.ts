import { escapeJson, latin1, unescapeJson } from './json-string';
import { addCount, fieldHashOfBytes, type MaskCounts, type MaskingEngine } from './masker';
import { maskToken } from './rules';
import { mayBeWrappedBase64 } from './encoded';
import { IncrementalTextMasker } from './text-stream';

/** A body masker fed chunk by chunk: each call returns the output that is final so far. */
export interface ChunkMasker {
  write(chunk: Buffer): Buffer[];
  end(): Buffer[];
}

/** String values longer than this (in raw bytes) are masked in pieces instead of held whole. */
export const LONG_STRING_BYTES = 1024 * 1024;

// Tokenizer states.
const VALUE = 0; // a value is expected
const ARRAY_FIRST = 1; // after '[': a value or ']'
const OBJECT_FIRST = 2; // after '{': a key or '}'
const OBJECT_KEY = 3; // after ',' in an object: a key
const COLON = 4;
const AFTER = 5; // after a value: ',' or a closing bracket
const STRING = 6; // inside a key or a string value
const NUMBER = 7;
const LITERAL = 8; // true, false, null
const TEXT = 9; // not JSON after all: text masking for the rest

/** Deeper nesting is not taken for JSON (the rest is masked as text), so the stack stays small. */
export const MAX_DEPTH = 10_000;

const IN_OBJECT = 1;
const IN_ARRAY = 2;

const WHITESPACE = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WHITESPACE[c] = 1;
const NUMBER_CHAR = new Uint8Array(256);
for (const c of '0123456789+-.eE') NUMBER_CHAR[c.charCodeAt(0)] = 1;
/** 1 for a digit, 2 for a separator a card number may have between digits. */
const DIGIT_KIND = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) DIGIT_KIND[c] = 1;
DIGIT_KIND[0x20] = 2;
DIGIT_KIND[0x2d] = 2;
const UPPER = new Uint8Array(256);
for (let c = 0x41; c <= 0x5a; c++) UPPER[c] = 1;
const ESCAPE_CHAR = new Uint8Array(256);
for (const c of '"\\/bfnrtu') ESCAPE_CHAR[c.charCodeAt(0)] = 1;
const BOM = new Uint8Array(256);
for (const c of [0xef, 0xbb, 0xbf]) BOM[c] = 1;

const QUOTE = Buffer.from('"');

/** A key's first or last byte as it is in a normalised name: lowercased, 0 for '-'/'_' (unknown). */
const KEY_END = new Uint8Array(256);
for (let c = 0; c < 256; c++) KEY_END[c] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
KEY_END[0x2d] = 0;
KEY_END[0x5f] = 0;

/**
 * The streaming JSON masker: a byte-level tokenizer that passes the document through as it
 * came, except
 * - string values (and keys) in which a detector finds something: only the found parts change;
 * - the whole value of a field a field rule names (a string, a number, or an object or array of
 *   any size), which becomes one mask string.
 *
 * It never builds a tree: memory is bounded by the nesting depth (one byte per level, at most
 * {@link MAX_DEPTH}) plus one string value of at most {@link LONG_STRING_BYTES}; longer strings
 * are masked in pieces. Only
 * strings whose bytes contain a detector anchor (or an escape that could hide one) are decoded.
 * Output is made of views of the input chunks wherever nothing changed.
 *
 * Input that is not JSON does not fail the stream: from the first offending byte on, the rest
 * is masked as text.
 */
export class JsonChunkMasker implements ChunkMasker {
  private state = VALUE;
  private stack = new Uint8Array(64);
  private depth = 0;
  private started = false;

  // The string being read.
  private isKey = false;
  /** Where it opened in the current chunk, or -1 when it opened in an earlier one. */
  private strStart = -1;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** The last three (folded) bytes of the string, and whether one of the anchor trigrams occurred. */
  private window = 0;
  private hit = 0;
  /** Digit runs, for the digit-gated (personal data) detectors. */
  private digitRun = 0;
  private digitSeparated = false;
  private rawWindow = 0;
  private digitHit = false;
  private hasEscape = false;
  /** An escape (`\u`, `\/`) that may hide an anchor from the byte prefilter. */
  private hardEscape = false;
  private escapePending = false;
  private long: IncrementalTextMasker | null = null;
  private longTail: Buffer | null = null;

  /** The key before the current value when it may name a secret for a keyed detector. */
  private keyContext: string | null = null;

  // Field rules.
  private pendingField: string | null = null;
  private skipping = false;
  private skipDepth = 0;

  private literal = '';
  private literalIndex = 0;

  private text: IncrementalTextMasker | null = null;

  // Per-chunk.
  private out: Buffer[] = [];
  private chunk: Buffer = Buffer.alloc(0);
  private flushFrom = 0;

  private readonly fieldMasks = new Map<string, Buffer>();
  private readonly fieldRules: boolean;
  private readonly detectors: boolean;
  private readonly trigrams: Int32Array;

  constructor(
    private readonly engine: MaskingEngine,
    private readonly counts: MaskCounts,
  ) {
    this.fieldRules = engine.hasFields;
    this.detectors = engine.hasDetectors;
    this.trigrams = engine.trigrams;
    for (const rule of engine.fieldRules.values()) {
      this.fieldMasks.set(rule, Buffer.from(JSON.stringify(maskToken(rule)), 'latin1'));
    }
  }

  write(chunk: Buffer): Buffer[] {
    if (this.state === TEXT) return this.textOut(this.textMasker().write(latin1(chunk, 0, chunk.length)));
    const out: Buffer[] = [];
    this.out = out;
    this.chunk = chunk;
    this.flushFrom = 0;
    const error = this.run(chunk);
    if (error >= 0) {
      this.fallBack(chunk, error);
      return out;
    }
    this.chunkEnd(chunk);
    return out;
  }

  end(): Buffer[] {
    const out: Buffer[] = [];
    this.out = out;
    if (this.state === STRING && !this.skipping) {
      // A document cut off inside a string: whatever it held goes out masked as text.
      const rest: Buffer[] = [...this.held];
      if (this.long !== null) {
        this.pushLatin1(escapeJson(this.long.end()));
        this.long = null;
        if (this.longTail !== null) rest.push(this.longTail);
      }
      this.held = [];
      this.longTail = null;
      this.state = TEXT;
      const masker = this.textMasker();
      this.pushLatin1(masker.write(latin1Of(rest)));
    }
    if (this.state === TEXT) this.pushLatin1(this.textMasker().end());
    return out;
  }

  /**
   * Tokenizes one chunk. Returns -1, or the index of the first byte that is not JSON.
   *
   * This is the hot loop: the state, the position and the string prefilter live in locals, and a
   * string that needs nothing (no anchor trigram, no escape that could hide one, not a key that
   * may name a field) costs one pass over its bytes and no call.
   */
  private run(buf: Buffer): number {
    const n = buf.length;
    const trigrams = this.trigrams;
    const detect = this.detectors;
    const pii = this.engine.digitGated !== 0;
    const runGate = this.engine.digitRun;
    let state = this.state;
    let window = this.window;
    let hit = this.hit;
    let i = 0;
    let error = -1;
    loop: while (i < n) {
      if (state === STRING) {
        let j = i;
        if (this.escapePending) {
          this.escapePending = false;
          const e = buf[j];
          if (!this.skipping) {
            if (ESCAPE_CHAR[e] === 0) {
              error = j;
              break;
            }
            if (e === 0x75 || e === 0x2f) this.hardEscape = true;
            window = (window << 8) | e | 0x20;
            hit |= trigrams[window & 0xffff] & (1 << (window >>> 16));
          }
          j++;
        }
        if (this.skipping || !detect) {
          for (; j < n; j++) {
            const c = buf[j];
            if (c === 0x22) break;
            if (c === 0x5c) {
              this.hasEscape = true;
              if (j + 1 === n) {
                this.escapePending = true;
                j = n;
                break;
              }
              if (ESCAPE_CHAR[buf[++j]] === 0 && !this.skipping) {
                error = j;
                break loop;
              }
            }
          }
        } else if (pii) {
          // As below, and digit runs for the digit-gated detectors: enough digits (single spaces or
          // dashes between them) for a card, an SSN or a phone number; two capitals and two digits may start an IBAN.
          let run = this.digitRun;
          let separated = this.digitSeparated;
          let raw = this.rawWindow;
          for (; j < n; j++) {
            const c = buf[j];
            window = (window << 8) | c | 0x20;
            raw = (raw << 8) | c;
            const kind = DIGIT_KIND[c];
            if (kind === 1) {
              separated = false;
              if (++run >= runGate) this.digitHit = true;
              if (DIGIT_KIND[(raw >>> 8) & 0xff] === 1 && UPPER[(raw >>> 16) & 0xff] === 1 && UPPER[raw >>> 24] === 1) {
                this.digitHit = true;
              }
            } else if (kind === 2 && run > 0 && !separated) {
              separated = true;
            } else {
              run = 0;
              separated = false;
            }
            const t = trigrams[window & 0xffff];
            if (t === 0) continue;
            if (c === 0x22) break;
            if (c === 0x5c) {
              this.hasEscape = true;
              if (j + 1 === n) {
                this.escapePending = true;
                j = n;
                break;
              }
              const e = buf[++j];
              if (ESCAPE_CHAR[e] === 0) {
                error = j;
                break loop;
              }
              if (e === 0x75 || e === 0x2f) this.hardEscape = true;
              window = (window << 8) | e | 0x20;
              raw = (raw << 8) | e;
              hit |= trigrams[window & 0xffff] & (1 << (window >>> 16));
              continue;
            }
            hit |= t & (1 << (window >>> 16));
          }
          this.digitRun = run;
          this.digitSeparated = separated;
          this.rawWindow = raw;
        } else {
          for (; j < n; j++) {
            const c = buf[j];
            window = (window << 8) | c | 0x20;
            const t = trigrams[window & 0xffff];
            if (t === 0) continue;
            if (c === 0x22) break;
            if (c === 0x5c) {
              this.hasEscape = true;
              if (j + 1 === n) {
                this.escapePending = true;
                j = n;
                break;
              }
              const e = buf[++j];
              if (ESCAPE_CHAR[e] === 0) {
                error = j;
                break loop;
              }
              if (e === 0x75 || e === 0x2f) this.hardEscape = true;
              window = (window << 8) | e | 0x20;
              hit |= trigrams[window & 0xffff] & (1 << (window >>> 16));
              continue;
            }
            hit |= t & (1 << (window >>> 16));
          }
        }
        if (j >= n) {
          i = n;
          break;
        }
        i = j + 1;
        if (this.skipping) {
          this.strStart = -1;
          if (this.isKey) {
            state = COLON;
          } else {
            state = AFTER;
            if (this.depth === this.skipDepth) {
              this.skipping = false;
              this.flushFrom = i;
            }
          }
          continue;
        }
        if (
          hit === 0 &&
          !this.digitHit &&
          !this.hardEscape &&
          this.heldBytes === 0 &&
          this.long === null &&
          !(this.isKey && this.keyMayMatch(buf, j)) &&
          (this.isKey || this.keyContext === null) &&
          !(this.hasEscape && !this.isKey && this.mayBeWrapped(buf, j))
        ) {
          this.strStart = -1;
          this.keyContext = null;
          state = this.isKey ? COLON : AFTER;
          continue;
        }
        this.hit = hit;
        this.window = window;
        const bad = this.closeString(buf, j, hit !== 0 || this.digitHit);
        if (bad >= 0) {
          error = bad;
          break;
        }
        state = this.state;
        continue;
      }

      if (state === NUMBER) {
        while (i < n && NUMBER_CHAR[buf[i]] === 1) i++;
        if (i < n) {
          state = AFTER;
          this.valueDone(i);
        }
        continue;
      }
      if (state === LITERAL) {
        if (buf[i] !== this.literal.charCodeAt(this.literalIndex)) {
          error = i;
          break;
        }
        i++;
        if (++this.literalIndex === this.literal.length) {
          state = AFTER;
          this.valueDone(i);
        }
        continue;
      }

      let c = buf[i];
      while (WHITESPACE[c] === 1) {
        if (++i === n) break loop;
        c = buf[i];
      }
      if (state === AFTER) {
        if (this.depth === 0) {
          // Another top-level value may follow (JSON lines).
          state = VALUE;
          continue;
        }
        const container = this.stack[this.depth - 1];
        if (c === 0x2c) {
          state = container === IN_OBJECT ? OBJECT_KEY : VALUE;
          i++;
        } else if ((c === 0x7d && container === IN_OBJECT) || (c === 0x5d && container === IN_ARRAY)) {
          this.depth--;
          i++;
          this.valueDone(i);
        } else {
          error = i;
          break;
        }
        continue;
      }
      if (state === OBJECT_KEY || state === OBJECT_FIRST) {
        if (c === 0x22) {
          state = STRING;
          this.isKey = true;
          this.strStart = i;
          this.hasEscape = false;
          this.hardEscape = false;
          this.digitHit = false;
          this.digitRun = 0;
          hit = 0;
          i++;
        } else if (c === 0x7d && state === OBJECT_FIRST) {
          this.depth--;
          i++;
          state = AFTER;
          this.valueDone(i);
        } else {
          error = i;
          break;
        }
        continue;
      }
      if (state === COLON) {
        if (c !== 0x3a) {
          error = i;
          break;
        }
        state = VALUE;
        i++;
        continue;
      }
      // VALUE or ARRAY_FIRST
      if (c === 0x22) {
        if (this.pendingField !== null) this.beginFieldValue(i);
        state = STRING;
        this.isKey = false;
        this.strStart = i;
        this.hasEscape = false;
        this.hardEscape = false;
        this.digitHit = false;
        this.digitRun = 0;
        hit = 0;
        i++;
      } else if (c === 0x7b || c === 0x5b) {
        this.keyContext = null;
        if (this.depth === MAX_DEPTH) {
          error = i;
          break;
        }
        if (this.pendingField !== null) this.beginFieldValue(i);
        this.push(c === 0x7b ? IN_OBJECT : IN_ARRAY);
        state = c === 0x7b ? OBJECT_FIRST : ARRAY_FIRST;
        i++;
      } else if (c === 0x5d && state === ARRAY_FIRST) {
        this.depth--;
        i++;
        state = AFTER;
        this.valueDone(i);
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        this.keyContext = null;
        if (this.pendingField !== null) this.beginFieldValue(i);
        state = NUMBER;
        i++;
      } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
        this.keyContext = null;
        if (this.pendingField !== null) this.beginFieldValue(i);
        this.literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
        this.literalIndex = 1;
        state = LITERAL;
        i++;
      } else if (!this.started && this.depth === 0 && BOM[c] === 1) {
        i++;
        continue;
      } else {
        error = i;
        break;
      }
      this.started = true;
    }
    this.state = state;
    this.window = window;
    this.hit = hit;
    return error;
  }

  /** Whether a string value without held bytes may be wrapped base64 (decoded whole by the engine). */
  private mayBeWrapped(buf: Buffer, close: number): boolean {
    const start = this.strStart + 1;
    return this.detectors && this.engine.decodes && close - start >= 64 && mayBeWrappedBase64(buf, start, close);
  }

  /** Whether a key without held bytes may name a field: its hash is one of a field name's. */
  private keyMayMatch(buf: Buffer, close: number): boolean {
    if (!this.fieldRules) return false;
    if (this.hasEscape) return true;
    const engine = this.engine;
    const start = this.strStart + 1;
    if (close - start < engine.minFieldBytes) return false;
    const first = KEY_END[buf[start]];
    const last = KEY_END[buf[close - 1]];
    if (first !== 0 && last !== 0 && engine.fieldEnds[(first << 8) | last] === 0) return false;
    return engine.fieldHashes.has(fieldHashOfBytes(buf, start, close));
  }

  private push(container: number): void {
    if (this.depth === this.stack.length) {
      const grown = new Uint8Array(this.stack.length * 2);
      grown.set(this.stack);
      this.stack = grown;
    }
    this.stack[this.depth++] = container;
  }

  /** A value of a field a rule names starts at `at`: the mask replaces all of it. */
  private beginFieldValue(at: number): void {
    const rule = this.pendingField as string;
    this.pendingField = null;
    if (this.skipping) return;
    this.emit(at);
    this.out.push(this.fieldMasks.get(rule) as Buffer);
    addCount(this.counts, rule);
    this.skipping = true;
    this.skipDepth = this.depth;
  }

  /** A value ended just before `at`. */
  private valueDone(at: number): void {
    if (this.skipping && this.depth === this.skipDepth) {
      this.skipping = false;
      this.flushFrom = at;
    }
  }

  /**
   * The string closed at `at` (its quote) and may need work: a trigram hit (`maybe`), an escape
   * that could hide an anchor, held bytes, a key that may name a field, or digit-gated detectors.
   * Returns -1, or the index where the JSON is invalid.
   */
  private closeString(buf: Buffer, at: number, maybe: boolean): number {
    const engine = this.engine;
    if (this.long !== null) {
      if (!this.feedLong(buf, this.contentStart(), at, true)) return at;
      this.out.push(QUOTE);
      this.flushFrom = at + 1;
      this.long = null;
      this.finishString(null, at);
      return -1;
    }

    const held = this.heldBytes > 0;
    // The content as one buffer; views when it is all in this chunk.
    let content: Buffer;
    let start: number;
    if (held) {
      content = Buffer.concat([...this.held, buf.subarray(0, at)]);
      start = 1; // after the opening quote
    } else {
      content = buf;
      start = this.strStart + 1;
    }
    const end = held ? content.length : at;

    let field: string | null = null;
    if (this.isKey && this.fieldRules) {
      if (!this.hasEscape) {
        field = this.fieldForBytes(content, start, end);
      } else {
        const key = unescapeJson(content, start, end, true);
        if (key === null) return at;
        field = engine.fieldRuleFor(key.text);
      }
    }

    let replaced = false;
    const keyContext = this.isKey ? null : this.keyContext;
    this.keyContext = null;
    const wrapped = !this.isKey && this.hasEscape && engine.decodes;
    if (
      this.detectors &&
      (maybe || this.hardEscape || wrapped || keyContext !== null || (this.isKey && engine.keyedBits !== 0))
    ) {
      const decoded = this.hasEscape ? unescapeJson(content, start, end, true) : null;
      if (this.hasEscape && decoded === null) return at;
      const logical = decoded !== null ? decoded.text : latin1(content, start, end);
      if (this.isKey && engine.keyNamesSecret(logical)) this.keyContext = logical;
      const masked =
        keyContext !== null
          ? engine.maskKeyed(keyContext, logical, this.counts)
          : engine.maskString(logical, this.counts, undefined, true);
      if (masked !== logical) {
        if (!held) this.emit(this.strStart);
        this.pushLatin1(`"${escapeJson(masked)}"`);
        this.flushFrom = at + 1;
        replaced = true;
      }
    }
    if (held && !replaced) {
      // Bytes of this chunk up to the quote stay in the pass-through range; the held start goes first.
      for (const piece of this.held) this.out.push(piece);
    }
    this.held = [];
    this.heldBytes = 0;
    this.finishString(field, at);
    return -1;
  }

  private finishString(field: string | null, at: number): void {
    this.strStart = -1;
    if (this.isKey) {
      this.pendingField = field;
      this.state = COLON;
    } else {
      this.valueDone(at + 1);
      this.state = AFTER;
    }
  }

  /** The field rule for a raw key without escapes, by hash first so most keys cost no string. */
  private fieldForBytes(bytes: Buffer, start: number, end: number): string | null {
    const engine = this.engine;
    if (!engine.fieldHashes.has(fieldHashOfBytes(bytes, start, end))) return null;
    return engine.fieldRuleFor(latin1(bytes, start, end));
  }

  /** Where the current string's content begins in this chunk. */
  private contentStart(): number {
    return this.strStart >= 0 ? this.strStart + 1 : 0;
  }

  /** Feeds raw string bytes to the long-string masker. Returns false for an invalid escape. */
  private feedLong(buf: Buffer, start: number, end: number, final: boolean): boolean {
    const long = this.long as IncrementalTextMasker;
    let bytes = buf;
    let from = start;
    let to = end;
    if (this.longTail !== null) {
      bytes = Buffer.concat([this.longTail, buf.subarray(start, end)]);
      from = 0;
      to = bytes.length;
    }
    const decoded = unescapeJson(bytes, from, to, final);
    if (decoded === null) return false;
    this.longTail = null;
    if (from + decoded.consumed < to) this.longTail = Buffer.from(bytes.subarray(from + decoded.consumed, to));
    const masked = long.write(decoded.text) + (final ? long.end() : '');
    if (masked.length > 0) this.pushLatin1(escapeJson(masked));
    return true;
  }

  /** End of a chunk: pass through what is final, hold an open string. */
  private chunkEnd(buf: Buffer): void {
    const n = buf.length;
    if (this.skipping) {
      this.flushFrom = n;
      return;
    }
    if (this.state !== STRING) {
      this.emit(n);
      return;
    }
    if (this.long !== null) {
      if (!this.feedLong(buf, this.contentStart(), n, false)) {
        this.fallBack(buf, this.contentStart());
        return;
      }
      this.flushFrom = n;
      this.strStart = -1;
      return;
    }
    const start = this.strStart >= 0 ? this.strStart : 0;
    this.emit(start);
    if (n > start) {
      this.held.push(Buffer.from(buf.subarray(start, n)));
      this.heldBytes += n - start;
    }
    this.flushFrom = n;
    this.strStart = -1;
    if (this.heldBytes > LONG_STRING_BYTES) {
      // Too long to hold: from here on the string is masked in pieces, re-encoded as it goes.
      const raw = Buffer.concat(this.held);
      this.held = [];
      this.heldBytes = 0;
      this.long = new IncrementalTextMasker(this.engine, this.counts);
      this.out.push(QUOTE);
      if (!this.feedLong(raw, 1, raw.length, false)) {
        this.long = null;
        this.state = TEXT;
        this.pushLatin1(this.textMasker().write(latin1(raw, 1, raw.length)));
      }
    }
  }

  /** Not JSON from `at` on: mask the rest (and whatever was held) as text. */
  private fallBack(buf: Buffer, at: number): void {
    const from = this.skipping ? at : Math.min(this.flushFrom, at);
    const rest: Buffer[] = [...this.held];
    if (this.long !== null) {
      this.pushLatin1(escapeJson(this.long.end()));
      this.long = null;
    }
    if (this.longTail !== null) rest.push(this.longTail);
    rest.push(buf.subarray(from));
    this.held = [];
    this.heldBytes = 0;
    this.longTail = null;
    this.skipping = false;
    this.state = TEXT;
    this.pushLatin1(this.textMasker().write(latin1Of(rest)));
  }

  private textMasker(): IncrementalTextMasker {
    if (this.text === null) this.text = new IncrementalTextMasker(this.engine, this.counts);
    return this.text;
  }

  private textOut(text: string): Buffer[] {
    return text.length > 0 ? [Buffer.from(text, 'latin1')] : [];
  }

  /** Passes the current chunk's bytes from flushFrom up to `to` through unchanged. */
  private emit(to: number): void {
    if (to > this.flushFrom) this.out.push(this.chunk.subarray(this.flushFrom, to));
    this.flushFrom = to;
  }

  private pushLatin1(text: string): void {
    if (text.length > 0) this.out.push(Buffer.from(text, 'latin1'));
  }
}

function latin1Of(buffers: Buffer[]): string {
  const all = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers);
  return latin1(all, 0, all.length);
}
