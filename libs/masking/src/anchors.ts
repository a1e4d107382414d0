/**
 * The prefilter: one pass over a text (or the bytes of a JSON string) with an Aho-Corasick
 * automaton over every enabled detector's anchors, case-insensitively. It answers "which
 * detectors could match here?" as a bit set, so the regular expressions run only on the few
 * strings that contain an anchor.
 *
 * The automaton is a full DFA over character classes: every ASCII character that occurs in an
 * anchor has its own class (upper and lower case share one), everything else is class 0.
 * States are stored pre-multiplied by the class count, so a step is `next[state + class]`.
 */

export interface Anchor {
  text: string;
  bits: number;
}

export class AnchorAutomaton {
  /** Byte (or char code < 256) to class; bytes >= 128 are class 0. */
  readonly classOf: Uint8Array;
  readonly classCount: number;
  /** next[state + class] = next state (pre-multiplied). */
  readonly next: Int32Array;
  /** accept[state] = detector bits of every anchor that ends in that state. */
  readonly accept: Int32Array;

  constructor(anchors: readonly Anchor[]) {
    const classOf = new Uint8Array(256);
    let classCount = 1;
    for (const { text } of anchors) {
      for (let i = 0; i < text.length; i++) {
        const c = text.toLowerCase().charCodeAt(i);
        // Class 30 of the trigram table is the stop mark: no anchor character may fold into it.
        if (c >= 128 || c === 0x22 || c === 0x5c || c <= 0x20 || (foldByte(c) & 31) === 30) {
          throw new Error(
            `anchor ${JSON.stringify(text)} must be printable ASCII without quotes, backslashes, '>', '^' or '~'`,
          );
        }
        if (classOf[c] !== 0) continue;
        classOf[c] = classCount;
        if (c >= 0x61 && c <= 0x7a) classOf[c - 0x20] = classCount;
        classCount++;
      }
    }

    // Trie over classes.
    const goto: Int32Array[] = [new Int32Array(classCount).fill(-1)];
    const out: number[] = [0];
    for (const { text, bits } of anchors) {
      let s = 0;
      for (const ch of text.toLowerCase()) {
        const k = classOf[ch.charCodeAt(0)];
        if (goto[s][k] < 0) {
          goto[s][k] = goto.length;
          goto.push(new Int32Array(classCount).fill(-1));
          out.push(0);
        }
        s = goto[s][k];
      }
      out[s] |= bits;
    }

    // Failure links by breadth-first search, folded into a full transition table.
    const states = goto.length;
    const delta = new Int32Array(states * classCount);
    const fail = new Int32Array(states);
    const queue: number[] = [];
    for (let k = 0; k < classCount; k++) {
      const t = k === 0 ? -1 : goto[0][k];
      if (t > 0) {
        fail[t] = 0;
        delta[k] = t;
        queue.push(t);
      } else {
        delta[k] = 0;
      }
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q];
      out[s] |= out[fail[s]];
      for (let k = 0; k < classCount; k++) {
        const t = k === 0 ? -1 : goto[s][k];
        if (t > 0) {
          fail[t] = delta[fail[s] * classCount + k];
          delta[s * classCount + k] = t;
          queue.push(t);
        } else {
          delta[s * classCount + k] = delta[fail[s] * classCount + k];
        }
      }
    }

    this.classOf = classOf;
    this.classCount = classCount;
    this.next = new Int32Array(states * classCount);
    this.accept = new Int32Array(states * classCount);
    for (let s = 0; s < states; s++) {
      this.accept[s * classCount] = out[s];
      for (let k = 0; k < classCount; k++) this.next[s * classCount + k] = delta[s * classCount + k] * classCount;
    }
  }

  /** Bits of every anchor that occurs in `text`. */
  scan(text: string): number {
    const { classOf, next, accept } = this;
    let state = 0;
    let hits = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      state = next[state + (c < 256 ? classOf[c] : 0)];
      hits |= accept[state];
    }
    return hits;
  }
}

/** Rough English letter frequencies (%), to pick the least common trigram of each anchor. */
const LETTER_FREQUENCY: Record<string, number> = {
  a: 8.2, b: 1.5, c: 2.8, d: 4.3, e: 12.7, f: 2.2, g: 2.0, h: 6.1, i: 7.0, j: 0.15, k: 0.77, l: 4.0, m: 2.4,
  n: 6.7, o: 7.5, p: 1.9, q: 0.1, r: 6.0, s: 6.3, t: 9.1, u: 2.8, v: 1.0, w: 2.4, x: 0.15, y: 2.0, z: 0.07,
  '-': 3, '.': 4, '/': 3, ':': 2, '=': 1.5, _: 2, '@': 1,
}; // prettier-ignore

/** Trigrams too common in English and API payloads to stand for an anchor. */
const COMMON_TRIGRAMS = new Set(
  (
    'the and ing ent ion her for tha nte int ter hat tio ere ate his con res ver all ons nce men ith ted ' +
    'ers pro thi wit are ess not ive was ect rea com eve per ain est sta cre ati acc cco cou oun unt key ' +
    'ser use red eat dat tim ime ame nam typ ype val alu lue tat tus err ror ode ass ord pri ' +
    'wil lin ove try saw nod ine ink'
  ).split(' '),
);

/**
 * Characters of hex strings, UUIDs, timestamps and addresses. The filter knows a trigram's first
 * byte by its low five bits only (`t` and `4`, `q` and `1` look the same), so a trigram ending in
 * two of these fires all over ids, hashes and dates whatever its first byte.
 */
const ID_CHARS = new Set('0123456789abcdef.-:');

/** How often a trigram may be expected in ordinary text: lower is rarer. */
function commonness(trigram: string): number {
  let score = COMMON_TRIGRAMS.has(trigram) ? 20 : 1;
  if (ID_CHARS.has(trigram[1]) && ID_CHARS.has(trigram[2])) score *= 20;
  // Digits fill timestamps, ids and amounts in API payloads: as common there as frequent letters.
  for (const ch of trigram) score *= LETTER_FREQUENCY[ch] ?? (ch >= '0' && ch <= '9' ? 8 : 2);
  return score;
}

/**
 * Letter pairs common in English and JSON. The first stage of the filter tests a trigram's last two
 * bytes before its first, so a trigram ending in one of these costs a closer look at many bytes.
 */
const COMMON_PAIRS = new Set(
  (
    'th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve co me ' +
    'de hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta la ns ge ly ei os no pe do su pa ec ac ' +
    'rs mi us il lo pl ty ip ue ct ru ai sc tu yp ok ke ey id am ad ag ap ut ol et ia im ac pr ss qu ' +
    'ld ci wi t0 t1 t2'
  ).split(' '),
);

/**
 * How costly a trigram is as a filter entry. Every byte whose pair with the byte before it is some
 * entry's last two bytes takes the slow branch of the scanning loop, so the pair's frequency
 * counts as much as how common the whole trigram is (a string sent to the exact automaton).
 */
export function cost(trigram: string): number {
  const pair = trigram.slice(1);
  const f = (ch: string) => LETTER_FREQUENCY[ch] ?? (ch >= '0' && ch <= '9' ? 8 : 2);
  const idLike = ID_CHARS.has(pair[0]) && ID_CHARS.has(pair[1]) ? 20 : 1;
  return f(pair[0]) * f(pair[1]) * (COMMON_PAIRS.has(pair) ? 30 : 1) * idLike * commonness(trigram);
}

/** The cost of an anchor's cheapest trigram (see {@link trigramFilter}). */
export function anchorCost(anchor: string): number {
  const folded = anchor.toLowerCase();
  let best = Infinity;
  for (let i = 0; i + 3 <= folded.length; i++) best = Math.min(best, cost(folded.slice(i, i + 3)));
  return best;
}

/** Folds a byte for the trigram filter: ASCII letters lose their case (other bytes may alias, which only adds candidates). */
export function foldByte(c: number): number {
  return (c | 0x20) & 0xff;
}

const trigramCache = new Map<string, Int32Array>();
/** Set on every entry whose second byte may be a quote or a backslash. */
export const STOP_MARK = 1 << 30;

/**
 * A coarser and cheaper first stage for byte streams, over a rolling window of folded bytes:
 * `table[last two bytes]` holds a bit per class (low 5 bits) of the byte before them, for every
 * anchor trigram. Each anchor contributes its least common trigram (anchors shorter than three
 * characters contribute every trigram that ends with them), so any text holding an anchor hits;
 * the exact automaton then runs on the few strings that do. A step is
 * `w = (w << 8) | c | 0x20; hit |= table[w & 0xffff] & (1 << (w >>> 16))`: no table load
 * depends on the previous one, unlike the automaton, and the table (256 KiB, shared by engines
 * with the same anchors) stays in cache.
 */
export function trigramFilter(anchors: readonly string[]): Int32Array {
  const key = [...new Set(anchors.map((a) => a.toLowerCase()))].sort().join('\u0000');
  let table = trigramCache.get(key);
  if (table !== undefined) return table;
  const t = new Int32Array(1 << 16);
  for (const anchor of anchors) {
    const folded = Array.from(anchor, (ch) => foldByte(ch.charCodeAt(0)));
    if (folded.length >= 3) {
      let best = 0;
      let bestScore = Infinity;
      for (let i = 0; i + 3 <= folded.length; i++) {
        const score = cost(anchor.toLowerCase().slice(i, i + 3));
        if (score < bestScore) {
          bestScore = score;
          best = i;
        }
      }
      t[(folded[best + 1] << 8) | folded[best + 2]] |= 1 << (folded[best] & 31);
    } else if (folded.length === 2) {
      t[(folded[0] << 8) | folded[1]] = -1;
    } else if (folded.length === 1) {
      for (let p = 0; p < 256; p++) t[(p << 8) | folded[0]] = -1;
    }
  }
  // Quotes and backslashes (folded: '"' and '|') mark their entries too, so the scanning loop
  // tests one value per byte and looks closer only when it is not zero.
  for (let p = 0; p < 256; p++) {
    t[(p << 8) | 0x22] |= STOP_MARK;
    t[(p << 8) | 0x7c] |= STOP_MARK;
  }
  if (trigramCache.size >= 16) trigramCache.clear();
  trigramCache.set(key, t);
  table = t;
  return table;
}
