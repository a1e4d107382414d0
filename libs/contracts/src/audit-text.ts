/**
 * Text that goes into audit events often comes from a client (SQL, application_name, paths,
 * error messages) and must never make an event unstorable. The recorder's store refuses U+0000
 * (PostgreSQL text and json cannot hold it) and lone surrogates (they have no UTF-8 form, and
 * the canonical JSON the chain hashes refuses them). Limits in the audit schema count UTF-16
 * units, as JavaScript strings and zod do.
 */

const REPLACEMENT = '\uFFFD';

type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/**
 * The longest prefix of `s` of at most `max` UTF-16 units that ends on a code point boundary:
 * a surrogate pair is kept whole or left out, never cut in half.
 */
export function truncateText(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  const last = s.charCodeAt(max - 1);
  const next = s.charCodeAt(max);
  // A high surrogate whose low half would be cut off goes too.
  const end = last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? max - 1 : max;
  return s.slice(0, end);
}

/** Whether the recorder can store `s` as it is: no U+0000 and no lone surrogate. */
export function isStorableText(s: string): boolean {
  return (s as WellFormedString).isWellFormed() && !s.includes('\0');
}

/**
 * `s` with U+0000 and every lone surrogate replaced by U+FFFD. The length (in UTF-16 units) does
 * not change, so a string within a schema limit stays within it.
 */
export function storableText(s: string): string {
  if (isStorableText(s)) return s;
  return (s as WellFormedString).toWellFormed().replace(/\0/g, REPLACEMENT);
}

/**
 * A JSON value with every string and member name made storable (see `storableText`). Returns the
 * value itself when nothing needed replacing.
 */
export function storableJson<T>(value: T): T {
  return storable(value) as T;
}

function storable(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = storable(value[i]);
      if (v !== value[i]) {
        out ??= value.slice();
        out[i] = v;
      }
    }
    return out ?? value;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    // Every event passes here: no per-object allocation unless something is replaced.
    const obj = value as Record<string, unknown>;
    let out: Record<string, unknown> | null = null;
    for (const k in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
      const v = obj[k];
      const key = storableText(k);
      const sv = typeof v === 'object' || typeof v === 'string' ? storable(v) : v;
      if (key !== k || sv !== v) {
        out ??= { ...obj };
        if (key !== k) delete out[k];
        out[key] = sv;
      }
    }
    return out ?? value;
  }
  return value;
}
