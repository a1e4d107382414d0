import fc from 'fast-check';
import { isStorableText, storableJson, storableText, truncateText } from './audit-text';

const wellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

describe('audit text', () => {
  it('cuts at a code point: a pair across the limit is left out whole', () => {
    expect(truncateText(`${'a'.repeat(63)}\u{1F600}`, 64)).toBe('a'.repeat(63));
    expect(truncateText(`${'a'.repeat(62)}\u{1F600}b`, 64)).toBe(`${'a'.repeat(62)}\u{1F600}`);
    expect(truncateText('short', 64)).toBe('short');
    expect(truncateText('abc', 0)).toBe('');
    // A lone high surrogate at the limit is not half of a pair: it stays (and is replaced when stored).
    expect(truncateText('ab\ud800c', 3)).toBe('ab\ud800');
  });

  it('never makes a well-formed text ill-formed, and respects the limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), fc.nat({ max: 60 }), (s, max) => {
        const t = truncateText(s, max);
        expect(t.length).toBeLessThanOrEqual(max);
        expect(s.startsWith(t)).toBe(true);
        expect(wellFormed(t)).toBe(true);
        // Only a pair that did not fit was left out.
        expect(t.length).toBeGreaterThanOrEqual(Math.min(s.length, max) - 1);
      }),
    );
  });

  it('replaces U+0000 and lone surrogates with U+FFFD, keeping the length', () => {
    expect(storableText('a\0b')).toBe('a\uFFFDb');
    expect(storableText('x\ud83d')).toBe('x\uFFFD');
    expect(storableText('\ude00y')).toBe('\uFFFDy');
    expect(storableText('ok \u{1F600}')).toBe('ok \u{1F600}');
    const units = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
      fc.constant('\0'),
    );
    fc.assert(
      fc.property(fc.string({ unit: units, maxLength: 40 }), (s) => {
        const t = storableText(s);
        expect(t.length).toBe(s.length);
        expect(isStorableText(t)).toBe(true);
        if (isStorableText(s)) expect(t).toBe(s);
      }),
    );
  });

  it('makes every string and member name of a JSON value storable, copying only what changes', () => {
    const clean = { a: ['x', 1, null, { b: true }] };
    expect(storableJson(clean)).toBe(clean);
    const dirty = { 'k\0': ['x\ud800', 2], n: { m: 'y\0' }, same: { z: 1 } };
    const out = storableJson(dirty);
    expect(out).toEqual({ 'k\uFFFD': ['x\uFFFD', 2], n: { m: 'y\uFFFD' }, same: { z: 1 } });
    expect(out.same).toBe(dirty.same);
    expect(dirty['k\0'][0]).toBe('x\ud800');
  });
});
