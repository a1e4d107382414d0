/**
 * JSON in the canonical form of RFC 8785 (JCS): object members sorted by the UTF-16 code units
 * of their names, no insignificant whitespace, numbers and strings serialised as ECMAScript's
 * JSON.stringify does. Two parties holding the same JSON value produce the same bytes, which is
 * what a hash over an event needs. Input is a JSON value as JSON.parse returns it: anything
 * else (a sparse array, a Date, a Map, undefined) is refused rather than guessed at.
 */
export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

/** Node 20 has String.prototype.isWellFormed; the TypeScript library this workspace targets does not name it. */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

// Member names repeat from event to event: their quoted form is kept (bounded) rather than rebuilt.
const quotedNames = new Map<string, string>();

function quotedName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    if (!isWellFormed(name)) throw new CanonicalJsonError('a member name holds a lone surrogate');
    quoted = `${JSON.stringify(name)}:`;
    if (quotedNames.size < 4096) quotedNames.set(name, quoted);
  }
  return quoted;
}

export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) throw new CanonicalJsonError('a string holds a lone surrogate');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${value} has no JSON form`);
      // ECMAScript's shortest round-trip form, which RFC 8785 adopts (and -0 becomes 0).
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new CanonicalJsonError('an array has a hole');
          if (i > 0) out += ',';
          out += canonicalJson(value[i]);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError('only plain objects have a JSON form');
      }
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, the order RFC 8785 prescribes.
      const names = Object.keys(record).sort();
      let out = '{';
      for (let i = 0; i < names.length; i++) {
        if (i > 0) out += ',';
        out += quotedName(names[i]) + canonicalJson(record[names[i]]);
      }
      return `${out}}`;
    }
    default:
      throw new CanonicalJsonError(`a ${typeof value} is not a JSON value`);
  }
}

/** An escape of a UTF-16 surrogate (`\uD800`–`\uDFFF`): the only way JSON text can carry a lone one. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * `canonicalJson(value)` for a value that `JSON.parse(text)` returned, computed mostly by the
 * engine's own JSON.stringify: when no string can hold a lone surrogate (the text is well formed
 * and escapes none), the canonical form differs from JSON.stringify's only in member order. So a
 * value whose members are in order throughout is stringified whole, and one that is not is
 * written member by member in sorted order, each member's value that is in order throughout
 * stringified whole again. Nothing is copied: an event's small inner objects (its actor, its
 * counters) usually are in order, and only the objects around them are written piece by piece.
 * Anything else goes the general way.
 */
export function canonicalJsonOfParsed(value: unknown, text: string): string {
  if (!isWellFormed(text) || (text.includes('\\u') && SURROGATE_ESCAPE.test(text))) return canonicalJson(value);
  return valueJson(value, 0);
}

/**
 * Beyond this depth the general form is written instead: checking each level's order again
 * below it would cost the square of the depth.
 */
const ORDERED_DEPTH_MAX = 32;

function valueJson(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      // Well formed here: quoted as JSON.stringify quotes it, and without a call when nothing needs escaping.
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      return String(finite(value));
    case 'object':
      if (value === null) return 'null';
      if (depth > ORDERED_DEPTH_MAX) return canonicalJson(value);
      return inOrder(value) ? JSON.stringify(value) : orderedJson(value, depth);
    default:
      return JSON.stringify(value);
  }
}

/** What JSON.stringify escapes in a well-formed string. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/**
 * A number JSON.parse read, unless it read Infinity (a literal too large for a double, such as
 * 1e400): that has no canonical form, where JSON.stringify would write null.
 */
function finite(n: number): number {
  if (!Number.isFinite(n)) throw new CanonicalJsonError(`${n} has no JSON form`);
  return n;
}

/**
 * Whether every object in the value lists its own members in sorted order, as JSON.stringify
 * takes them (stops at the first that does not), refusing on the way a number JSON.stringify
 * would write as null. Index-like names, which the engine lists first in numeric order, and a
 * member named __proto__, which JSON.parse makes an own member, need no exception: the order
 * checked is the order JSON.stringify writes.
 */
function inOrder(value: object): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'number') finite(item);
      else if (item !== null && typeof item === 'object' && !inOrder(item)) return false;
    }
    return true;
  }
  let previous: string | undefined;
  // for..in rather than Object.keys: no array per object (own members only, as JSON.stringify takes).
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    if (previous !== undefined && !(previous < name)) return false;
    previous = name;
    const member: unknown = (value as Record<string, unknown>)[name];
    if (typeof member === 'number') finite(member);
    else if (member !== null && typeof member === 'object' && !inOrder(member)) return false;
  }
  return true;
}

/** Member names of the object being written at each depth: no array allocated per object. */
const namesAt: string[][] = [];
/** Up to this many members an insertion sort in place; more (rare in an event) the engine's sort. */
const INSERTION_SORT_MAX = 24;
/** A scratch array grown past this many names (a very wide object) is not kept. */
const NAMES_KEPT_MAX = 4096;

/** An object or array not in order, written with every object's members sorted. */
function orderedJson(value: object, depth: number): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += valueJson(value[i], depth + 1);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let names = (namesAt[depth] ??= []);
  let n = 0;
  for (const name in record) if (Object.hasOwn(record, name)) names[n++] = name;
  if (n <= INSERTION_SORT_MAX) insertionSort(names, n);
  else names = names.slice(0, n).sort();
  let out = '{';
  for (let i = 0; i < n; i++) {
    if (i > 0) out += ',';
    out += quotedName(names[i]) + valueJson(record[names[i]], depth + 1);
  }
  if (namesAt[depth].length > NAMES_KEPT_MAX) namesAt[depth] = [];
  return `${out}}`;
}

/** Sorts the first `n` names in place by UTF-16 code units, as the default sort compares. */
function insertionSort(names: string[], n: number): void {
  for (let i = 1; i < n; i++) {
    const name = names[i];
    let j = i - 1;
    while (j >= 0 && names[j] > name) {
      names[j + 1] = names[j];
      j--;
    }
    names[j + 1] = name;
  }
}
