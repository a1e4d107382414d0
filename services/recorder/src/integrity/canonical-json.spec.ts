import { CanonicalJsonError, canonicalJson } from './canonical-json';

describe('canonical JSON (RFC 8785)', () => {
  describe('object members', () => {
    it('sorts member names by their UTF-16 code units, not by code point or locale', () => {
      // First code units: "\r" 0x000d < "1" 0x0031 < "A" 0x0041 < "a" 0x0061 ("aa" after its prefix "a")
      // < "\u00e9" 0x00e9 < "\u20ac" 0x20ac < "\ud83d\ude00" 0xd83d < "\ufb33" 0xfb33. By code point the
      // emoji (U+1F600) would come last; in UTF-16 its high surrogate sorts before U+FB33.
      const value = {
        '\ufb33': 1,
        '\u20ac': 2,
        '\ud83d\ude00': 3,
        '\u00e9': 4,
        aa: 5,
        a: 6,
        A: 7,
        '1': 8,
        '\r': 9,
      };
      expect(canonicalJson(value)).toBe(
        '{"\\r":9,"1":8,"A":7,"a":6,"aa":5,"\u00e9":4,"\u20ac":2,"\ud83d\ude00":3,"\ufb33":1}',
      );
    });

    it('orders integer-like names as strings ("10" before "9"), unlike the insertion order JavaScript gives them', () => {
      expect(canonicalJson({ 9: 'nine', 10: 'ten', b: true, '': 'empty' })).toBe(
        '{"":"empty","10":"ten","9":"nine","b":true}',
      );
    });

    it('gives equal objects built in different orders the same text', () => {
      const one = { kind: 'head', chain: 3, nested: { z: [1, { q: null, p: false }], y: 'x' } };
      const other = { nested: { y: 'x', z: [1, { p: false, q: null }] }, chain: 3, kind: 'head' };
      expect(canonicalJson(other)).toBe(canonicalJson(one));
      expect(canonicalJson(one)).toBe('{"chain":3,"kind":"head","nested":{"y":"x","z":[1,{"p":false,"q":null}]}}');
    });

    it('sorts nested objects, keeps array order, and writes empty containers', () => {
      expect(canonicalJson({ b: [3, { y: 1, x: [true, false, null] }, []], a: {} })).toBe(
        '{"a":{},"b":[3,{"x":[true,false,null],"y":1},[]]}',
      );
      expect(canonicalJson([['b', 'a'], { d: 1, c: 2 }])).toBe('[["b","a"],{"c":2,"d":1}]');
    });

    it('leaves out all insignificant whitespace but keeps the whitespace inside strings', () => {
      const parsed: unknown = JSON.parse('{\n  "b" : [ 1 , 2 ],\n\t"a" : { "k" : " v w " }\n}');
      expect(canonicalJson(parsed)).toBe('{"a":{"k":" v w "},"b":[1,2]}');
    });

    it('writes the literals', () => {
      expect(canonicalJson(null)).toBe('null');
      expect(canonicalJson(true)).toBe('true');
      expect(canonicalJson(false)).toBe('false');
      expect(canonicalJson({ t: true, f: false, n: null })).toBe('{"f":false,"n":null,"t":true}');
    });
  });

  describe('numbers', () => {
    it.each<[number, string]>([
      [0, '0'],
      [-0, '0'],
      [42, '42'],
      [-7, '-7'],
      [1.0, '1'],
      [9007199254740991, '9007199254740991'],
      [-9007199254740991, '-9007199254740991'],
      [0.1, '0.1'],
      [0.1 + 0.2, '0.30000000000000004'],
      [-2.5, '-2.5'],
      [1e20, '100000000000000000000'],
      [1e21, '1e+21'],
      [123456789012345680000, '123456789012345680000'],
      [2.5e25, '2.5e+25'],
      [1e-6, '0.000001'],
      [1e-7, '1e-7'],
      [-1.25e-10, '-1.25e-10'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [4.35, '4.35'],
      [2 ** 53 + 2, '9007199254740994'],
    ])('writes %p as %s, the ECMAScript Number::toString form', (n, text) => {
      expect(canonicalJson(n)).toBe(text);
      expect(canonicalJson([n])).toBe(`[${text}]`);
    });

    it.each([NaN, Infinity, -Infinity])('refuses %p, which JSON cannot hold', (n) => {
      expect(() => canonicalJson(n)).toThrow(CanonicalJsonError);
      expect(() => canonicalJson({ deep: [1, n] })).toThrow(CanonicalJsonError);
    });
  });

  describe('strings', () => {
    it('escapes control characters as lowercase \\u00XX, except the five with a short form', () => {
      expect(canonicalJson('\u0000')).toBe('"\\u0000"');
      expect(canonicalJson('\u0001\u001b\u001f')).toBe('"\\u0001\\u001b\\u001f"');
      expect(canonicalJson('\u000b')).toBe('"\\u000b"');
      expect(canonicalJson('\b\t\n\f\r')).toBe('"\\b\\t\\n\\f\\r"');
    });

    it('escapes only the quote and the backslash among printable characters', () => {
      expect(canonicalJson('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
      expect(canonicalJson('a/b</script>')).toBe('"a/b</script>"');
    });

    it('writes DEL, non-ASCII characters, U+2028 and U+2029 as themselves', () => {
      expect(canonicalJson('\u007f')).toBe('"\u007f"');
      expect(canonicalJson('line\u2028para\u2029')).toBe('"line\u2028para\u2029"');
      expect(canonicalJson('\u00e9\u20ac\ud83d\ude00')).toBe('"\u00e9\u20ac\ud83d\ude00"');
    });

    it('applies the same escaping to member names', () => {
      expect(canonicalJson({ 'tab\there': 1, 'q"': 2 })).toBe('{"q\\"":2,"tab\\there":1}');
    });

    it.each([
      ['a lone high surrogate', 'x\ud800y'],
      ['a lone low surrogate', '\udc00'],
      ['a high surrogate at the end', 'end\ud83d'],
      ['a pair in the wrong order', '\ude00\ud83d'],
    ])('refuses %s in a value', (_what, s) => {
      expect(() => canonicalJson(s)).toThrow(new CanonicalJsonError('a string holds a lone surrogate'));
      expect(() => canonicalJson({ list: ['ok', s] })).toThrow(CanonicalJsonError);
    });

    it('refuses a lone surrogate in a member name', () => {
      expect(() => canonicalJson({ ok: 1, ['k\udbff']: 2 })).toThrow(
        new CanonicalJsonError('a member name holds a lone surrogate'),
      );
    });
  });

  describe('values JSON has no form for', () => {
    it.each<[string, unknown]>([
      ['undefined', undefined],
      ['a function', () => 1],
      ['a bigint', 10n],
      ['a symbol', Symbol('s')],
    ])('refuses %s, alone, as a member and in an array', (_what, v) => {
      expect(() => canonicalJson(v)).toThrow(CanonicalJsonError);
      expect(() => canonicalJson({ a: 1, b: v })).toThrow(CanonicalJsonError);
      expect(() => canonicalJson([1, v])).toThrow(CanonicalJsonError);
    });

    it('names what it refused', () => {
      expect(() => canonicalJson(10n)).toThrow('a bigint is not a JSON value');
      expect(() => canonicalJson(NaN)).toThrow('NaN has no JSON form');
    });

    it('refuses a sparse array and objects that are not plain JSON objects', () => {
      expect(() => canonicalJson([1, , 3])).toThrow(CanonicalJsonError);
      expect(() => canonicalJson(new Date(0))).toThrow('only plain objects have a JSON form');
      expect(() => canonicalJson({ m: new Map([[1, 2]]) })).toThrow('only plain objects have a JSON form');
      expect(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
    });
  });

  it('gives text that parses back to the same value', () => {
    const value = { s: 'a\u0000\u2028"\\/', n: [0, -1.5, 1e-9, 3e22], o: { '\u20ac': null, e: {} } };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });
});
