/**
 * JSON in the canonical form of RFC 8785 (JCS): object members sorted by the UTF-16 code units
 * of their names, no insignificant whitespace, numbers and strings serialised as ECMAScript's
 * JSON.stringify does. Two parties holding the same JSON value produce the same bytes, which is
 * what a hash over an event needs.
 */
export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

/** Node 20 has String.prototype.isWellFormed; the TypeScript library this workspace targets does not name it. */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

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
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, the order RFC 8785 prescribes.
      const names = Object.keys(record).sort();
      let out = '{';
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        if (!isWellFormed(name)) throw new CanonicalJsonError('a member name holds a lone surrogate');
        if (i > 0) out += ',';
        out += `${JSON.stringify(name)}:${canonicalJson(record[name])}`;
      }
      return `${out}}`;
    }
    default:
      throw new CanonicalJsonError(`a ${typeof value} is not a JSON value`);
  }
}
