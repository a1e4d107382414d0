import fc from 'fast-check';
import { CanonicalJsonError, canonicalJson, canonicalJsonOfParsed } from './canonical-json';

/** The shortcut must give exactly what the general form gives, or refuse exactly when it refuses. */
function both(text: string): { general: string | Error; fromParsed: string | Error } {
  const run = (f: () => string): string | Error => {
    try {
      return f();
    } catch (err) {
      return err as Error;
    }
  };
  return {
    general: run(() => canonicalJson(JSON.parse(text))),
    fromParsed: run(() => canonicalJsonOfParsed(JSON.parse(text), text)),
  };
}

describe('the canonical form of parsed JSON text', () => {
  it('equals the general canonical form for any JSON text, sorted or not, compact or not', () => {
    const text = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.jsonValue().map((v) => JSON.stringify(v, null, 2)),
      fc.jsonValue().map((v) => canonicalJson(v)),
      fc.json({ noUnicodeString: false }),
    );
    fc.assert(
      fc.property(text, (t) => {
        const r = both(t);
        expect(r.fromParsed).toEqual(r.general);
      }),
      { numRuns: 5000 },
    );
  });

  it('sorts objects wide and deep, names of any code units, as the general form does', () => {
    // Wide objects (past the in-place sort's size), nested in objects and arrays, with names that
    // differ only late, by case, or outside the Basic Multilingual Plane.
    const name = fc.oneof(
      fc.string({ minLength: 0, maxLength: 6 }),
      fc.constantFrom('a', 'A', 'ab', 'aB', 'é', 'e\u0301', '\u{1F600}', '\uFB01', 'z', ''),
    );
    const wide = fc.dictionary(name, fc.oneof(fc.integer(), fc.string()), { minKeys: 20, maxKeys: 60 });
    const nested = fc.dictionary(name, fc.oneof(wide, fc.array(wide, { maxLength: 3 })), { maxKeys: 30 });
    fc.assert(
      fc.property(nested, (v) => {
        const text = JSON.stringify(v);
        const r = both(text);
        expect(r.fromParsed).toEqual(r.general);
      }),
      { numRuns: 500 },
    );
  });

  it('quotes strings as the general form does, control characters, quotes and backslashes among them', () => {
    const text = fc.string({
      unit: fc.constantFrom('\u0000', '\u0008', '\t', '\n', '\u001f', '"', '\\', '/', 'a', '\u2028', 'é', '\u007f'),
    });
    const value = fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 3 })), { minKeys: 1, maxKeys: 8 });
    fc.assert(
      fc.property(value, fc.boolean(), (v, compact) => {
        const r = both(compact ? JSON.stringify(v) : JSON.stringify(v, null, 1));
        expect(r.fromParsed).toEqual(r.general);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes values nested past the depth it checks order to as the general form does', () => {
    // Chains of objects, in order or not, deeper than the depth up to which order is checked
    // level by level, with index-like names and __proto__ among them.
    const name = fc.constantFrom('a', 'b', 'z', '0', '7', '10', '__proto__', 'A');
    const link = fc.tuple(name, name, fc.boolean(), fc.integer());
    fc.assert(
      fc.property(fc.array(link, { minLength: 20, maxLength: 60 }), (links) => {
        let v: unknown = 'leaf';
        for (const [inner, other, arrayed, n] of links) {
          const o: Record<string, unknown> = JSON.parse('{}') as Record<string, unknown>;
          Object.defineProperty(o, inner, { value: arrayed ? [v] : v, enumerable: true, writable: true });
          if (other !== inner) Object.defineProperty(o, other, { value: n, enumerable: true, writable: true });
          v = o;
        }
        const r = both(JSON.stringify(v));
        expect(r.fromParsed).toEqual(r.general);
      }),
      { numRuns: 300 },
    );
  });

  it('sorts integer-like names as text and keeps a member named __proto__', () => {
    const text = '{"9":1,"10":2,"__proto__":{"b":1,"a":2},"a":[{"y":1,"x":0}]}';
    expect(canonicalJsonOfParsed(JSON.parse(text), text)).toBe(
      '{"10":2,"9":1,"__proto__":{"a":2,"b":1},"a":[{"x":0,"y":1}]}',
    );
    expect(both(text).fromParsed).toBe(both(text).general);
  });

  it('keeps a member named __proto__ among names out of order, at any depth', () => {
    for (const text of ['{"b":1,"__proto__":{"y":1,"x":2}}', '[{"z":{"b":0,"__proto__":[1]},"a":1}]']) {
      const r = both(text);
      expect(r.fromParsed).toBe(r.general);
      expect(r.fromParsed).toContain('"__proto__":');
    }
  });

  it('refuses a number too large for a double, which JSON.parse reads as Infinity, as the general form does', () => {
    const huge = `1${'0'.repeat(400)}`;
    for (const text of [
      '{"a":1e400}',
      '{"b":1,"a":-1e999}',
      `[${huge}]`,
      '{"a":{"b":2E+308}}',
      `{"x":[{"y":-${huge}.5}]}`,
    ]) {
      expect(() => canonicalJsonOfParsed(JSON.parse(text), text)).toThrow(CanonicalJsonError);
    }
    // The same characters in a string, and a number that only underflows to 0, are no reason to refuse.
    for (const text of ['{"a":"1e400"}', `{"a":"${huge}"}`, '{"a":1e-400}']) {
      const r = both(text);
      expect(r.fromParsed).toBe(r.general);
    }
  });

  it('refuses a lone surrogate, escaped or in the text itself, and keeps an escaped pair', () => {
    for (const text of ['{"a":"\\ud800"}', '{"\\udc00":1}', '["x\ud800"]']) {
      expect(() => canonicalJsonOfParsed(JSON.parse(text), text)).toThrow(CanonicalJsonError);
    }
    const pair = '{"a":"\\ud83d\\ude00"}';
    expect(canonicalJsonOfParsed(JSON.parse(pair), pair)).toBe('{"a":"😀"}');
  });

  it('writes numbers and escapes as the general form does', () => {
    const text = '{"n":[1.0,-0,1e21,0.000001,1E-7],"s":"\\u0041\\t\\u001f\\/"}';
    expect(canonicalJsonOfParsed(JSON.parse(text), text)).toBe('{"n":[1,0,1e+21,0.000001,1e-7],"s":"A\\t\\u001f/"}');
  });
});
