import fc from 'fast-check';
import { canonicalPath, canonicalQuery, type PathParameters } from './canonical-request';

/**
 * What a lenient upstream (many web servers and frameworks) makes of a path: it decodes
 * percent-encoding once, strips ";" parameters from each segment, resolves dot segments and
 * ignores case.
 */
function lenient(path: string): string {
  const out: string[] = [];
  for (const raw of decode(path).replace(/\\/g, '/').split('/').slice(1)) {
    const seg = raw.split(';')[0];
    if (seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`.toLowerCase();
}

/** Percent-decoding once, byte by byte; a malformed escape stays as it is. */
function decode(path: string): string {
  return Buffer.from(
    path.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

/** What policy judged, read as a case-blind server reads it: escapes decoded, nothing stripped or resolved. */
function judged(canonical: string): string {
  return decode(canonical).toLowerCase();
}

const token = fc.constantFrom(
  'a',
  'A',
  'd',
  'm',
  'i',
  'n',
  'x',
  '/',
  '.',
  '..',
  ';',
  '=',
  '~',
  '-',
  '%',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%3b',
  '%25',
  '%2561',
  '%61',
  '%41',
  '%5c',
  '%20',
  '%7e',
  '%zz',
  '%00',
  '%c3%a9',
  '%c0%ae',
  '\\',
  '@',
  ':',
);
const rawPath = fc.array(token, { maxLength: 14 }).map((t) => `/${t.join('')}`);
const mode = fc.constantFrom<PathParameters>('refuse', 'literal');

describe('canonicalPath', () => {
  it.each([
    ['/%61dmin/x', '/admin/x'],
    ['/items/%7euser/%41', '/items/~user/A'],
    ['/a%2db/c%5fd', '/a-b/c_d'],
    ['/a%c3%a9', '/a%C3%A9'],
    ['/a%20b', '/a%20B'.replace('B', 'b')],
    ['/items/', '/items/'],
    ['/', '/'],
    ['/a..b/c', '/a..b/c'],
    ['/100%25', '/100%25'],
  ])('canonicalises %s to %s', (raw, canonical) => {
    expect(canonicalPath(raw)).toEqual({ ok: true, value: canonical });
  });

  it.each([
    ['/items/..;/admin/x', '";"'],
    ['/%c0%ae%c0%ae/admin', 'UTF-8'],
    ['/admin;x/y', 'path parameters'],
    ['/admin%3bx/y', 'encoded ";"'],
    ['/items/%252e%252e/admin/x', 'double percent-encoding'],
    ['/items/%2e%2e/admin/x', 'dot segment'],
    ['/a/%2E/b', 'dot segment'],
    ['/a%2fb', 'encoded "/"'],
    ['/a%5Cb', 'encoded "/" or "\\"'],
    ['/a\\b', 'backslash'],
    ['/a//b', 'empty path segment'],
    ['/a/../b', 'dot segment'],
    ['/a/.', 'dot segment'],
    ['/a%00b', 'control character'],
    ['/a%zzb', 'malformed'],
    ['/a%2', 'malformed'],
    ['/a b', 'not allowed'],
    ['/a"b', 'not allowed'],
    ['/é', 'not allowed'],
    ['relative', 'does not start'],
  ])('refuses %s (%s)', (raw, why) => {
    const r = canonicalPath(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(why);
  });

  it('lets ";" through as a literal where the connection says its upstream reads it so, but never "..;"', () => {
    expect(canonicalPath('/bucket/a;b', 'literal')).toEqual({ ok: true, value: '/bucket/a;b' });
    expect(canonicalPath('/bucket/a%3bb', 'literal')).toEqual({ ok: true, value: '/bucket/a%3Bb' });
    expect(canonicalPath('/items/..;/admin', 'literal').ok).toBe(false);
    expect(canonicalPath('/items/.;x/admin', 'literal').ok).toBe(false);
  });

  it('is idempotent: the canonical form of a canonical path is itself', () => {
    fc.assert(
      fc.property(rawPath, mode, (raw, m) => {
        const once = canonicalPath(raw, m);
        if (!once.ok) return;
        expect(canonicalPath(once.value, m)).toEqual(once);
      }),
      { numRuns: 3000 },
    );
  });

  it('what it accepts reaches a lenient upstream as the very path policy judged', () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const c = canonicalPath(raw, 'refuse');
        if (!c.ok) return;
        // The agent's bytes and the canonical ones name the same resource...
        expect(lenient(c.value)).toBe(lenient(raw));
        // ...and a server that decodes, strips ";", resolves ".." and ignores case changes nothing but case.
        expect(lenient(c.value)).toBe(judged(c.value));
        // Decoding adds no separator the policy did not see.
        expect(judged(c.value).split('/').length).toBe(c.value.split('/').length);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses every reproduction of the adversarial review', () => {
    const denied = [
      '/%61dmin/x',
      '/items/..;/admin/x',
      '/admin;x/y',
      '/Admin/x',
      '/admin%3bx/y',
      '/items/%252e%252e/admin/x',
    ];
    for (const raw of denied) {
      const c = canonicalPath(raw);
      // Refused, or judged on a path that a case-blind rule for /admin/** sees.
      if (c.ok) expect(c.value.toLowerCase().startsWith('/admin/')).toBe(true);
    }
  });
});

describe('canonicalQuery', () => {
  it('decodes parameters for policy and encodes them one way upstream', () => {
    expect(canonicalQuery('?delete')).toEqual({ ok: true, value: { params: [{ name: 'delete' }], text: '?delete' } });
    expect(canonicalQuery('?list-type=2&prefix=a%2Fb+c&&x=')).toEqual({
      ok: true,
      value: {
        params: [
          { name: 'list-type', value: '2' },
          { name: 'prefix', value: 'a/b c' },
          { name: 'x', value: '' },
        ],
        text: '?list-type=2&prefix=a%2Fb%20c&x=',
      },
    });
    expect(canonicalQuery('')).toEqual({ ok: true, value: { params: [], text: '' } });
    expect(canonicalQuery('?%64elete')).toEqual({ ok: true, value: { params: [{ name: 'delete' }], text: '?delete' } });
    expect(canonicalQuery('?a=%2B')).toEqual({
      ok: true,
      value: { params: [{ name: 'a', value: '+' }], text: '?a=%2B' },
    });
  });

  it.each(['?a=%zz', '?a=%ff', '?=x', '?a=%00', '?a=%0a'])('refuses %s', (q) => {
    expect(canonicalQuery(q).ok).toBe(false);
  });

  it('is idempotent and keeps the decoded parameters', () => {
    const part = fc.string({
      unit: fc.constantFrom('a', 'Z', '=', '&', '+', ' ', '%', '/', 'é', '?', ';', '~'),
      maxLength: 8,
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(part, fc.option(part)), { maxLength: 6 }), (pairs) => {
        const raw = pairs
          .filter(([n]) => n.length > 0)
          .map(([n, v]) => `${encodeURIComponent(n)}${v === null ? '' : `=${encodeURIComponent(v)}`}`)
          .join('&');
        const once = canonicalQuery(raw);
        expect(once.ok).toBe(true);
        if (!once.ok) return;
        expect(canonicalQuery(once.value.text)).toEqual(once);
        expect(once.value.params.map((p) => p.name)).toEqual(pairs.filter(([n]) => n.length > 0).map(([n]) => n));
      }),
      { numRuns: 2000 },
    );
  });
});
