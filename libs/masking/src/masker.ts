import { AnchorAutomaton, STOP_MARK, trigramFilter, type Anchor } from './anchors';
import { detectorById, type Detector } from './detectors';
import { ENCODED_BIT, ENCODED_RUN_MAX, encodedAnchors, findEncoded, wrappedBase64 } from './encoded';
import {
  checkFieldName,
  columnRuleId,
  DETECTOR_IDS,
  fieldRuleId,
  isDetectorId,
  MaskingRuleError,
  maskToken,
  type MaskingConfig,
} from './rules';

/** Masked values per rule. Counts only: the values themselves are never kept. */
export type MaskCounts = Record<string, number>;

export interface TextMaskResult {
  text: string;
  counts: MaskCounts;
}

export interface JsonMaskResult {
  value: unknown;
  counts: MaskCounts;
}

/** One span to mask, in the coordinates of the text it was found in. */
export interface Span {
  start: number;
  end: number;
  rule: string;
  /** A private key whose end the text did not reach. */
  open: boolean;
}

export function addCount(counts: MaskCounts, rule: string, n = 1): void {
  counts[rule] = (counts[rule] ?? 0) + n;
}

/** FNV-1a over bytes, skipping `-`/`_` and lowercasing ASCII letters: the normalised field name. */
export function fieldHashOfBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    let c = bytes[i];
    if (c === 0x2d || c === 0x5f) continue;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

const KEY_CACHE_LIMIT = 4096;
/** Keys longer than this are not read as naming their value. */
const KEY_CONTEXT_MAX = 64;

/**
 * Everything a masking operation needs, built once per configuration: the enabled detectors in
 * priority order, the two prefilter stages, and the field names by normalised name and by hash.
 * Shared by the one-shot {@link Masker} methods and the streams.
 */
export class MaskingEngine {
  readonly detectors: readonly Detector[];
  readonly automaton: AnchorAutomaton;
  /** The first, cheaper stage of the prefilter: anchor trigrams (see trigramFilter). */
  readonly trigrams: Int32Array;
  /**
   * Each detector's prefilter bit. Detectors share the 30 low bits (a hit on a shared bit runs
   * every detector on it, which costs time, never a miss); bit 30 is the encoded-value scan.
   */
  readonly bits: Int32Array;
  /** Bits of detectors gated by a digit count instead of anchors, and the count each needs. */
  readonly digitGated: number;
  private readonly minDigits: Int32Array;
  /** The shortest run of digits a digit-gated detector needs (the JSON stream's gate). */
  readonly digitRun: number;
  /** Whether encoded values (base64, URL encoding) are decoded and scanned. */
  readonly decodes: boolean;
  /** Bits of the detectors that read a key name before a value (see Detector.keyed). */
  readonly keyedBits: number;
  /** Normalised field name → rule id (`field:<name>`). */
  readonly fieldRules: ReadonlyMap<string, string>;
  /** Hash of the normalised UTF-8 bytes of a field name → true; a cheap first test on raw keys. */
  readonly fieldHashes: ReadonlySet<number>;
  /**
   * One flag per (first, last) byte pair of the normalised field names (ASCII lowercased): a raw
   * key whose first and last bytes are letters or digits can only match if its pair is flagged.
   */
  readonly fieldEnds: Uint8Array;
  /** Shortest normalised field name in bytes: shorter raw keys cannot match. */
  readonly minFieldBytes: number;
  /** Largest `reach` and `lead` over the enabled detectors (streaming window and context). */
  readonly reach: number;
  readonly lead: number;
  private readonly keyCache = new Map<string, string | null>();

  constructor(config: MaskingConfig) {
    const detectors: Detector[] = [];
    const seen = new Set<string>();
    for (const id of config.detectors) {
      if (!isDetectorId(id)) throw new MaskingRuleError(id, 'unknown detector');
      seen.add(id);
    }
    for (const id of seen) {
      const d = detectorById(id);
      if (d !== undefined) detectors.push(d);
    }
    // Priority order is the registry's order, whatever order the configuration listed.
    detectors.sort((a, b) => order(a) - order(b));
    this.detectors = detectors;

    const anchors: Anchor[] = [];
    let digitGated = 0;
    let digitRun = Infinity;
    this.bits = new Int32Array(detectors.length);
    this.minDigits = new Int32Array(detectors.length);
    // Digit-gated detectors run whenever a text has enough digits (every timestamp does): each
    // gets a bit of its own so that no anchored detector runs along with them.
    const gated = detectors.filter((d) => d.minDigits !== undefined).length;
    const own = gated < SHARED_BITS ? gated : 0;
    let gatedIndex = 0;
    let sharedIndex = 0;
    detectors.forEach((d, i) => {
      const bit =
        own > 0 && d.minDigits !== undefined ? 1 << gatedIndex++ : 1 << (own + (sharedIndex++ % (SHARED_BITS - own)));
      this.bits[i] = bit;
      for (const text of d.anchors) anchors.push({ text, bits: bit });
      if (d.minDigits !== undefined) {
        digitGated |= bit;
        this.minDigits[i] = d.minDigits;
        if (d.digitRun !== undefined) digitRun = Math.min(digitRun, d.digitRun);
      }
    });
    this.decodes = detectors.some((d) => d.kind === 'secret');
    this.keyedBits = detectors.reduce((bits, d, i) => (d.keyed === true ? bits | this.bits[i] : bits), 0);
    if (this.decodes) {
      for (const text of encodedAnchors(detectors)) anchors.push({ text, bits: ENCODED_BIT });
    }
    this.digitRun = digitRun === Infinity ? 13 : digitRun;
    this.automaton = new AnchorAutomaton(anchors);
    this.trigrams = trigramFilter(anchors.map((a) => a.text));
    this.digitGated = digitGated;

    const fieldRules = new Map<string, string>();
    const fieldHashes = new Set<number>();
    const fieldEnds = new Uint8Array(1 << 16);
    let minFieldBytes = Infinity;
    for (const name of config.fieldNames) {
      const normalised = checkFieldName(`field:${name}`, name);
      fieldRules.set(normalised, fieldRuleId(normalised));
      const bytes = Buffer.from(normalised, 'utf8');
      fieldHashes.add(fieldHashOfBytes(bytes, 0, bytes.length));
      fieldEnds[(bytes[0] << 8) | bytes[bytes.length - 1]] = 1;
      minFieldBytes = Math.min(minFieldBytes, bytes.length);
    }
    this.fieldRules = fieldRules;
    this.fieldHashes = fieldHashes;
    this.fieldEnds = fieldEnds;
    this.minFieldBytes = minFieldBytes;
    this.reach = detectors.reduce(
      (m, d) => (d.id === 'private-key' ? m : Math.max(m, d.reach)),
      this.decodes ? ENCODED_RUN_MAX + 4 : 0,
    );
    this.lead = detectors.reduce((m, d) => Math.max(m, d.lead), 0);
  }

  get hasFields(): boolean {
    return this.fieldRules.size > 0;
  }

  get hasDetectors(): boolean {
    return this.detectors.length > 0;
  }

  /** The field rule for a key, by its normalised name; `null` when no rule names it. */
  fieldRuleFor(key: string): string | null {
    if (this.fieldRules.size === 0) return null;
    let rule = this.keyCache.get(key);
    if (rule === undefined) {
      rule = this.fieldRules.get(normaliseKey(key)) ?? null;
      if (this.keyCache.size >= KEY_CACHE_LIMIT) this.keyCache.clear();
      this.keyCache.set(key, rule);
    }
    return rule;
  }

  /** Detector bits that digit counts allow, given the number of ASCII digits in a text. */
  digitBits(digits: number): number {
    let bits = 0;
    for (let i = 0; i < this.detectors.length; i++) {
      if (this.detectors[i].minDigits !== undefined && digits >= this.minDigits[i]) bits |= this.bits[i];
    }
    return bits;
  }

  /** Which detectors could match in `text`. */
  prefilter(text: string): number {
    // The trigram table first (cheap, no dependent loads), the exact automaton only on a hit.
    const trigrams = this.trigrams;
    let window = 0;
    let maybe = 0;
    for (let i = 0; i < text.length; i++) {
      window = (window << 8) | ((text.charCodeAt(i) | 0x20) & 0xff);
      const t = trigrams[window & 0xffff];
      if (t !== 0) maybe |= t & (1 << (window >>> 16));
    }
    let hits = (maybe & ~STOP_MARK) !== 0 ? this.automaton.scan(text) : 0;
    if (this.digitGated !== 0) {
      let digits = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x30 && c <= 0x39) digits++;
      }
      hits |= this.digitBits(digits);
    }
    return hits;
  }

  /**
   * Spans of the detectors in `hits`, sorted and merged so no character is masked twice.
   * `whole` says the text is a whole value (a JSON string, a column value), not a piece of a
   * stream: an encoded value may then run over line breaks. `depth` counts decodings so far.
   */
  findSpans(text: string, hits: number, whole = false, depth = 0): Span[] {
    const spans: Span[] = [];
    for (let i = 0; i < this.detectors.length; i++) {
      if ((hits & this.bits[i]) === 0) continue;
      const rule = this.detectors[i].id;
      this.detectors[i].find(text, (start, end, open = false) => {
        if (end > start) spans.push({ start, end, rule, open });
      });
    }
    if ((hits & ENCODED_BIT) !== 0 && this.decodes && depth < MAX_DECODINGS) {
      findEncoded(this, text, whole, depth, spans);
    }
    if (spans.length < 2) return spans;
    // Stable sort keeps priority order among spans that start together.
    spans.sort((a, b) => a.start - b.start);
    const merged: Span[] = [spans[0]];
    for (let i = 1; i < spans.length; i++) {
      const last = merged[merged.length - 1];
      const s = spans[i];
      if (s.start < last.end) {
        if (s.end > last.end) {
          last.end = s.end;
          last.open = s.open;
        } else if (s.end === last.end) {
          last.open = last.open || s.open;
        }
      } else {
        merged.push(s);
      }
    }
    return merged;
  }

  /**
   * Whether a JSON key may name what its value holds for a keyed detector (`db_password`,
   * `datadog_api_key`): its value is then masked with {@link maskKeyed}.
   */
  keyNamesSecret(key: string): boolean {
    return this.keyedBits !== 0 && key.length <= KEY_CONTEXT_MAX && (this.prefilter(key) & this.keyedBits) !== 0;
  }

  /**
   * Masks a JSON string value under a key that {@link keyNamesSecret}: the value is scanned as
   * `<key>=<value>` (what the key alone holds is not masked here; the key is masked on its own).
   */
  maskKeyed(key: string, value: string, counts: MaskCounts): string {
    const prefix = `${key}=`;
    const text = prefix + value;
    const spans = this.findSpans(text, this.prefilter(text) | this.wrappedHit(value), true);
    const inValue: Span[] = [];
    for (const span of spans) {
      if (span.end <= prefix.length) continue;
      inValue.push({ ...span, start: Math.max(0, span.start - prefix.length), end: span.end - prefix.length });
    }
    return inValue.length === 0 ? value : applySpans(value, inValue, counts);
  }

  private wrappedHit(value: string): number {
    return this.decodes && value.length >= 64 && wrappedBase64(value) ? ENCODED_BIT : 0;
  }

  /**
   * Masks a text (a JavaScript string or a latin1 string of UTF-8 bytes). Returns the same string
   * when nothing was found.
   */
  maskString(text: string, counts: MaskCounts, hits = this.prefilter(text), whole = false): string {
    if (whole && (hits & ENCODED_BIT) === 0) hits |= this.wrappedHit(text);
    if (hits === 0) return text;
    const spans = this.findSpans(text, hits, whole);
    if (spans.length === 0) return text;
    return applySpans(text, spans, counts);
  }
}

/** Prefilter bits the detectors share; the next one up is the encoded-value scan's. */
const SHARED_BITS = 30;
/** Encodings within encodings decoded at most (a base64 config holding a base64 credential). */
const MAX_DECODINGS = 2;

function order(d: Detector): number {
  return DETECTOR_IDS.indexOf(d.id);
}

/** Replaces each span with its mask and counts it. */
export function applySpans(text: string, spans: readonly Span[], counts: MaskCounts): string {
  let out = '';
  let pos = 0;
  for (const span of spans) {
    out += text.slice(pos, span.start) + maskToken(span.rule);
    pos = span.end;
    addCount(counts, span.rule);
  }
  return out + text.slice(pos);
}

/** Key normalisation: see normaliseFieldName; this one is on the hot path and skips allocation when it can. */
function normaliseKey(key: string): string {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0x2d || c === 0x5f || (c >= 0x41 && c <= 0x5a)) {
      let out = key.slice(0, i);
      for (let j = i; j < key.length; j++) {
        const d = key.charCodeAt(j);
        if (d === 0x2d || d === 0x5f) continue;
        out += d >= 0x41 && d <= 0x5a ? String.fromCharCode(d | 0x20) : key[j];
      }
      return out;
    }
  }
  return key;
}

const engines = new WeakMap<Masker, MaskingEngine>();

/** The engine behind a masker, for the streams of this library. */
export function engineOf(masker: Masker): MaskingEngine {
  const engine = engines.get(masker);
  if (engine === undefined) throw new Error('not a Masker');
  return engine;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * Masks secrets and sensitive fields. Built once per configuration and reused: it holds no
 * per-call state, and every call reports its own counts.
 */
export class Masker {
  /** False when the configuration names no field and no detector: masking is then a no-op. */
  readonly enabled: boolean;
  private readonly engine: MaskingEngine;
  private readonly columns: ReadonlySet<string>;

  constructor(config: MaskingConfig) {
    this.engine = new MaskingEngine(config);
    this.columns = new Set(config.columns ?? []);
    this.enabled = this.engine.hasFields || this.engine.hasDetectors || this.columns.size > 0;
    engines.set(this, this.engine);
  }

  /** True when some rule masks values by the name or origin of their column or field. */
  get masksByName(): boolean {
    return this.engine.hasFields || this.columns.size > 0;
  }

  get hasDetectors(): boolean {
    return this.engine.hasDetectors;
  }

  /** The field rule that masks a field or column of this name, or null. */
  fieldRuleFor(name: string): string | null {
    return this.engine.fieldRuleFor(name);
  }

  /** The column rule for a table column (`schema`, `table`, `column` as the catalog names them), or null. */
  columnRuleFor(schema: string, table: string, column: string): string | null {
    if (this.columns.size === 0) return null;
    const qualified = `${schema}.${table}.${column}`;
    return this.columns.has(qualified) ? columnRuleId(qualified) : null;
  }

  /**
   * False when no detector can match anywhere in `text` (a cheap prefilter): a result row whose
   * bytes, read as latin1, give false needs no look at its values one by one.
   */
  mayDetect(text: string): boolean {
    return this.engine.hasDetectors && this.engine.prefilter(text) !== 0;
  }

  /** Masks what the detectors find in one value, adding to `counts`; returns the same string when nothing was found. */
  maskValue(text: string, counts: MaskCounts): string {
    return this.engine.hasDetectors ? this.engine.maskString(text, counts, undefined, true) : text;
  }

  /** Masks every secret the enabled detectors find in `text`. Field rules do not apply to text. */
  maskText(text: string): TextMaskResult {
    const counts: MaskCounts = {};
    if (!this.engine.hasDetectors) return { text, counts };
    return { text: this.engine.maskString(text, counts), counts };
  }

  /**
   * Masks a parsed JSON value: values of matching fields at any depth become the mask whatever
   * their type, and detectors run over every string (object keys included). The input is not
   * modified; unchanged parts of the result are shared with it.
   */
  maskJson(value: unknown): JsonMaskResult {
    const counts: MaskCounts = {};
    if (!this.enabled) return { value, counts };
    return { value: this.walk(value, counts), counts };
  }

  /** Masks a string value or key; other scalars pass. */
  private scalar(value: unknown, counts: MaskCounts): unknown {
    return typeof value === 'string' && this.engine.hasDetectors
      ? this.engine.maskString(value, counts, undefined, true)
      : value;
  }

  /** Recursive walk for ordinary depths: the fast path. */
  private walk(value: unknown, counts: MaskCounts, depth = 0): unknown {
    if (typeof value !== 'object' || value === null) return this.scalar(value, counts);
    if (depth > RECURSION_LIMIT) return this.walkDeep(value, counts);
    if (Array.isArray(value)) {
      let out: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const masked = this.walk(item, counts, depth + 1);
        if (masked !== item && out === null) out = value.slice(0, i);
        if (out !== null) out.push(masked);
      }
      return out ?? value;
    }
    if (!isPlainObject(value)) return value;
    const engine = this.engine;
    const detect = engine.hasDetectors;
    let out: Record<string, unknown> | null = null;
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const item = value[key];
      const rule = engine.fieldRuleFor(key);
      let masked: unknown;
      if (rule !== null) {
        masked = maskToken(rule);
        addCount(counts, rule);
      } else if (typeof item === 'string' && detect && engine.keyNamesSecret(key)) {
        masked = engine.maskKeyed(key, item, counts);
      } else {
        masked = this.walk(item, counts, depth + 1);
      }
      const maskedKey = detect ? engine.maskString(key, counts) : key;
      if (out === null && (masked !== item || maskedKey !== key)) {
        out = {};
        for (let j = 0; j < i; j++) setOwn(out, keys[j], value[keys[j]]);
      }
      if (out !== null) setOwn(out, maskedKey, masked);
    }
    return out ?? value;
  }

  /**
   * The same walk with an explicit stack, for nesting deeper than the call stack allows
   * (JSON.parse accepts far deeper documents than recursion could walk).
   */
  private walkDeep(root: unknown, counts: MaskCounts): unknown {
    if (!isContainer(root)) return root;
    const engine = this.engine;
    const stack: Frame[] = [frameOf(root)];
    for (;;) {
      const frame = stack[stack.length - 1];
      if (frame.index === frame.length) {
        stack.pop();
        const done = frame.out ?? frame.source;
        if (stack.length === 0) return done;
        deliver(stack[stack.length - 1], done);
        continue;
      }
      let item: unknown;
      if (frame.keys === null) {
        item = (frame.source as unknown[])[frame.index];
      } else {
        const key = frame.keys[frame.index];
        item = (frame.source as Record<string, unknown>)[key];
        frame.key = engine.hasDetectors ? engine.maskString(key, counts) : key;
        const rule = engine.fieldRuleFor(key);
        if (rule !== null) {
          addCount(counts, rule);
          deliver(frame, maskToken(rule));
          continue;
        }
      }
      if (isContainer(item)) {
        stack.push(frameOf(item));
      } else if (frame.keys !== null && typeof item === 'string' && engine.hasDetectors) {
        const key = frame.keys[frame.index];
        deliver(frame, engine.keyNamesSecret(key) ? engine.maskKeyed(key, item, counts) : this.scalar(item, counts));
      } else {
        deliver(frame, this.scalar(item, counts));
      }
    }
  }
}

/** Nesting the recursive walk handles before it hands over to the explicit stack. */
const RECURSION_LIMIT = 1000;

/** One container being walked: its next child, and its copy once a child changed. */
interface Frame {
  source: unknown[] | Record<string, unknown>;
  keys: string[] | null;
  length: number;
  index: number;
  /** The masked key of the current child (objects). */
  key: string;
  out: unknown[] | Record<string, unknown> | null;
}

function isContainer(value: unknown): value is unknown[] | Record<string, unknown> {
  return typeof value === 'object' && value !== null && (Array.isArray(value) || isPlainObject(value));
}

function frameOf(source: unknown[] | Record<string, unknown>): Frame {
  const keys = Array.isArray(source) ? null : Object.keys(source);
  return {
    source,
    keys,
    length: keys === null ? (source as unknown[]).length : keys.length,
    index: 0,
    key: '',
    out: null,
  };
}

/** The current child of `frame` became `value`: record it, copying the container on the first change. */
function deliver(frame: Frame, value: unknown): void {
  const i = frame.index++;
  if (frame.keys === null) {
    const source = frame.source as unknown[];
    if (frame.out === null && value !== source[i]) frame.out = source.slice(0, i);
    if (frame.out !== null) (frame.out as unknown[]).push(value);
    return;
  }
  const source = frame.source as Record<string, unknown>;
  const key = frame.keys[i];
  if (frame.out === null && (value !== source[key] || frame.key !== key)) {
    const out: Record<string, unknown> = {};
    for (let j = 0; j < i; j++) setOwn(out, frame.keys[j], source[frame.keys[j]]);
    frame.out = out;
  }
  if (frame.out !== null) setOwn(frame.out as Record<string, unknown>, frame.key, value);
}
