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
/** Names an engine enumerates first, in numeric order, whatever the insertion order (array indices). */
const INDEX_LIKE = /^(?:0|[1-9]\d{0,9})$/;

const SORTED = 0;
const UNSORTED = 1;
/** Names the sorted copy cannot carry as they are: index-like ones, and `__proto__`. */
const INDEX_NAMES = 2;

/**
 * `canonicalJson(value)` for a value that `JSON.parse(text)` returned, computed mostly by the
 * engine's own JSON.stringify: when no string can hold a lone surrogate (the text is well formed
 * and escapes none), the canonical form differs from JSON.stringify's only in member order, so
 * the value is stringified as it is when its members are already sorted, or as a sorted copy
 * (unless a name is index-like: the engine would put it first again). The result is the same
 * string, built flat rather than from many small pieces (cheaper to hash and to write).
 * Anything else goes the general way.
 */
export function canonicalJsonOfParsed(value: unknown, text: string): string {
  if (!isWellFormed(text) || SURROGATE_ESCAPE.test(text)) return canonicalJson(value);
  const order = memberOrder(value);
  if (order === SORTED) return JSON.stringify(value);
  if (order === UNSORTED) return JSON.stringify(sortedCopy(value));
  return canonicalJson(value);
}

function memberOrder(value: unknown): number {
  if (value === null || typeof value !== 'object') return SORTED;
  let order = SORTED;
  if (Array.isArray(value)) {
    for (const item of value) order = Math.max(order, memberOrder(item));
    return order;
  }
  let previous: string | undefined;
  // for..in rather than Object.keys: no array per object (own members only, as JSON.stringify takes).
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    // A plain object would take a member named __proto__ as its prototype: such values go the general way.
    if (INDEX_LIKE.test(name) || name === '__proto__') return INDEX_NAMES;
    if (previous !== undefined && !(previous < name)) order = UNSORTED;
    previous = name;
    order = Math.max(order, memberOrder((value as Record<string, unknown>)[name]));
    if (order === INDEX_NAMES) return order;
  }
  return order;
}

/** Member names, and their values once copied, of the object being copied at each depth: nothing allocated per object. */
const namesAt: string[][] = [];
const valuesAt: unknown[][] = [];
/** Up to this many members an insertion sort in place; more (rare in an event) the engine's sort. */
const INSERTION_SORT_MAX = 24;

/**
 * The value with every object's members in sorted order. What is in that order already, with
 * everything under it, is returned as it is rather than copied: an event's small inner objects
 * (its actor, its counters) usually are.
 */
function sortedCopy(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = sortedCopy(value[i], depth + 1);
      if (item !== value[i]) (copy ??= value.slice())[i] = item;
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let names = (namesAt[depth] ??= []);
  let n = 0;
  let moved = false;
  for (const name in record) {
    if (!Object.hasOwn(record, name)) continue;
    if (n > 0 && !(names[n - 1] < name)) moved = true;
    names[n++] = name;
  }
  if (moved) {
    if (n <= INSERTION_SORT_MAX) insertionSort(names, n);
    else names = names.slice(0, n).sort();
  }
  const values = (valuesAt[depth] ??= []);
  let changed = moved;
  for (let i = 0; i < n; i++) {
    const original = record[names[i]];
    const item = sortedCopy(original, depth + 1);
    if (item !== original) changed = true;
    values[i] = item;
  }
  let result: unknown = value;
  if (changed) {
    // A plain object (the engine stringifies it faster than one without a prototype): memberOrder
    // keeps values with a member named __proto__ out of here.
    const copy: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) copy[names[i]] = values[i];
    result = copy;
  }
  values.fill(undefined, 0, n);
  return result;
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
