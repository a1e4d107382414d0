/**
 * Building blocks for detectors made of regular expressions: one or more patterns behind one set
 * of anchors, each with an optional check that turns "looks like" into "is".
 */
import { entropy } from './checksums';
import type { Detector } from './detectors';
import type { DetectorId } from './rules';

export interface Pattern {
  /** Global regular expression; with `group`, it needs the `d` flag and only that group is masked. */
  re: RegExp;
  group?: number;
  accept?: (match: RegExpExecArray) => boolean;
}

export interface PatternDetectorSpec {
  id: DetectorId;
  kind?: 'secret' | 'pii';
  /** Literal substrings (case-insensitive) that every match contains; written in the case the format uses. */
  anchors: readonly string[];
  minDigits?: number;
  digitRun?: number;
  reach: number;
  lead?: number;
  patterns: readonly Pattern[];
  /** Strings whose base64 forms, when found, get an encoded value decoded (default: the anchors). */
  encoded?: readonly string[];
  /** The detector reads a key name before the value (see Detector.keyed). */
  keyed?: boolean;
}

export function patternDetector(spec: PatternDetectorSpec): Detector {
  const { patterns } = spec;
  return {
    id: spec.id,
    kind: spec.kind ?? 'secret',
    anchors: spec.anchors,
    minDigits: spec.minDigits,
    digitRun: spec.digitRun,
    reach: spec.reach,
    lead: spec.lead ?? 0,
    encoded: spec.encoded,
    keyed: spec.keyed,
    patterns: patterns.map((p) => p.re),
    find(text, out) {
      for (const { re, group, accept } of patterns) {
        re.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = re.exec(text)) !== null) {
          if (accept !== undefined && !accept(m)) continue;
          if (group === undefined) {
            out(m.index, m.index + m[0].length);
          } else {
            const span = m.indices?.[group];
            if (span !== undefined) out(span[0], span[1]);
          }
        }
      }
    },
  };
}

/** Characters between the service's name and the separator: `_API_KEY`, ` api key is`. */
const CONTEXT_GAP = 32;
const CONTEXT_SPACE = 8;

/**
 * A value that a format does not mark by itself (a bare hex or alphanumeric key) after a key that
 * names its service: `DATADOG_API_KEY=...`, `"linode_token": "..."`, `X-Honeycomb-Team: ...`.
 * The value must look random: a digit and a letter, and no long run of one character.
 */
export function contextPattern(keywords: readonly string[], value: string): Pattern {
  const re = new RegExp(
    `(?:${keywords.map(escape).join('|')})[A-Za-z0-9_. -]{0,${CONTEXT_GAP}}(?:\\\\?["'])?[ \\t]{0,${CONTEXT_SPACE}}(?::=|=>|[:=]|[ \\t])[ \\t]{0,${CONTEXT_SPACE}}(?:\\\\?["'])?(${value})(?![A-Za-z0-9_-])`,
    'dgi',
  );
  return { re, group: 1, accept: (m) => looksRandom(m[1]) };
}

/** How far a context pattern reaches before its value. */
export function contextLead(keywords: readonly string[]): number {
  return Math.max(...keywords.map((k) => k.length)) + CONTEXT_GAP + 2 + CONTEXT_SPACE * 2 + 3 + 2;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A letter and a digit, and more than 2.5 bits of entropy per character: not a word, not `000...`. */
export function looksRandom(value: string): boolean {
  return /[0-9]/.test(value) && /[A-Za-z]/.test(value) && entropy(value) > 2.5;
}

/** Upper and lower case letters both present (random base62), or a digit. */
export function mixedCase(value: string): boolean {
  return /[A-Z]/.test(value) && /[a-z]/.test(value);
}
