import { isDeepStrictEqual } from 'node:util';
import { classifySql, type Classification } from './classify';
import { shapeOf } from './shape';

/** Texts longer than this are classified every time: keeping them would let a few huge texts fill memory. */
const MAX_CACHED_BYTES = 64 * 1024;

/**
 * classifySql with a bounded cache keyed on the exact text, so clients that send the same
 * statements over and over (prepared statements, ORMs, polling) are parsed once. The least
 * recently used entry goes first. Results are frozen: every caller gets the same object.
 */
export class SqlClassifier {
  private readonly cache = new Map<string, Classification>();

  constructor(private readonly maxEntries = 5000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError(`maxEntries must be a non-negative integer, got ${maxEntries}`);
    }
  }

  classify(sql: string): Classification {
    if (this.maxEntries === 0 || !cacheable(sql)) return freeze(classifySql(sql));
    const exact = this.cache.get(sql);
    if (exact) return this.touch(sql, exact);
    // Texts that differ only in numeric constants share one entry (see shapeOf).
    const shape = shapeOf(sql);
    if (shape && shape.numbers > 0) {
      const hit = this.cache.get(shape.key);
      if (hit) return this.touch(shape.key, hit);
    }
    const result = freeze(classifySql(sql));
    let key = sql;
    if (shape && shape.numbers > 0 && result.parsed && isDeepStrictEqual(classifySql(shape.sibling), result)) {
      key = shape.key;
    }
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, result);
    return result;
  }

  private touch(key: string, hit: Classification): Classification {
    // Map keeps insertion order: re-inserting marks the entry as the most recently used.
    this.cache.delete(key);
    this.cache.set(key, hit);
    return hit;
  }

  get size(): number {
    return this.cache.size;
  }
}

function cacheable(sql: string): boolean {
  // A UTF-8 byte is at least one UTF-16 unit: the cheap length check rules out most long texts.
  return sql.length <= MAX_CACHED_BYTES && Buffer.byteLength(sql, 'utf8') <= MAX_CACHED_BYTES;
}

function freeze(c: Classification): Classification {
  if (c.parsed) {
    for (const s of c.statements) {
      Object.freeze(s.tables);
      Object.freeze(s.functions);
      Object.freeze(s.risks);
      Object.freeze(s);
    }
    Object.freeze(c.statements);
  }
  return Object.freeze(c);
}
