import fc from 'fast-check';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CREDENTIAL_RULE,
  CredentialNeedles,
  CredentialScrubStream,
  CredentialScrubber,
  encodingsOf,
} from './credential-scrub';
import type { MaskCounts } from './masker';

const TOKEN = '[MASKED:credential]';

/** How a reflecting upstream may carry a value: each as bytes of a body. */
const ENCODERS: Array<[string, (s: string) => string]> = [
  ['raw', (s) => s],
  ['base64', (s) => Buffer.from(s).toString('base64')],
  ['base64url', (s) => Buffer.from(s).toString('base64url')],
  ['base64 after one byte', (s) => Buffer.from(`x${s}`).toString('base64')],
  ['base64 after two bytes', (s) => Buffer.from(`xy${s}`).toString('base64')],
  ['base64 inside a basic header', (s) => Buffer.from(`user:${s}:more`).toString('base64')],
  ['url-encoded', (s) => encodeURIComponent(s)],
  ['url-encoded, lower hex', (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
  ['json-escaped', (s) => JSON.stringify(s).slice(1, -1)],
  ['json-escaped, slashes too', (s) => JSON.stringify(s).slice(1, -1).replace(/\//g, '\\/')],
];

function scrubChunks(needles: CredentialNeedles, chunks: readonly Buffer[]): { out: Buffer; counts: MaskCounts } {
  const counts: MaskCounts = {};
  const s = new CredentialScrubber(needles, counts);
  const out: Buffer[] = [];
  for (const c of chunks) out.push(...s.write(c));
  out.push(...s.end());
  return { out: Buffer.concat(out), counts };
}

function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const sorted = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let pos = 0;
  for (const c of sorted) {
    out.push(buf.subarray(pos, c));
    pos = c;
  }
  out.push(buf.subarray(pos));
  return out;
}

/** Every form a scanner looks for: the secret in each encoding (and the base64 core of each alignment). */
function forms(secret: string): string[] {
  return [...new Set([...encodingsOf(secret), ...ENCODERS.slice(0, 3).map(([, e]) => e(secret))])];
}

const secretArb = fc.oneof(
  fc.string({ minLength: 8, maxLength: 40 }),
  fc.stringMatching(/^[A-Za-z0-9+/=_.~:-]{8,60}$/),
  fc.string({ unit: 'grapheme', minLength: 6, maxLength: 20 }),
);

describe('encodingsOf', () => {
  it('gives the forms a reflected secret takes', () => {
    const forms = encodingsOf('s3cr3t/with spaces+ü');
    expect(forms).toContain('s3cr3t/with spaces+ü');
    expect(forms).toContain(Buffer.from('s3cr3t/with spaces+ü').toString('base64'));
    expect(forms).toContain(encodeURIComponent('s3cr3t/with spaces+ü'));
    expect(forms).toContain('s3cr3t\\/with spaces+\\u00fc');
  });
});

describe('CredentialScrubber', () => {
  it('finds what it looks for on purpose (the scanner of these tests works)', () => {
    const body = Buffer.from(`{"echo":"Bearer tok-123456789"}`);
    expect(body.includes('tok-123456789')).toBe(true);
    const { out, counts } = scrubChunks(new CredentialNeedles(['tok-123456789']), [body]);
    expect(out.toString()).toBe(`{"echo":"Bearer ${TOKEN}"}`);
    expect(counts).toEqual({ [CREDENTIAL_RULE]: 1 });
  });

  it('never lets the secret through, in any encoding, whatever the chunks', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.integer({ min: 0, max: ENCODERS.length - 1 }),
        fc.string({ maxLength: 50 }),
        fc.string({ maxLength: 50 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (secret, which, before, after, cuts, twice) => {
          fc.pre(Buffer.byteLength(secret) >= 6);
          const encoded = ENCODERS[which][1](secret);
          const body = Buffer.from(before + encoded + after + (twice ? encoded : ''));
          const needles = new CredentialNeedles([secret]);
          const { out, counts } = scrubChunks(needles, splitAt(body, cuts));
          const text = out.toString('latin1');
          for (const form of forms(secret)) {
            expect(text.includes(Buffer.from(form).toString('latin1'))).toBe(false);
          }
          expect(counts[CREDENTIAL_RULE]).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('passes a body without the secret unchanged, whatever the chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const secret = 'needle-that-is-not-there';
        const body = Buffer.from(bytes);
        fc.pre(!forms(secret).some((f) => body.includes(f)));
        const { out, counts } = scrubChunks(new CredentialNeedles([secret, 'another:value']), splitAt(body, cuts));
        expect(out.equals(body)).toBe(true);
        expect(counts).toEqual({});
      }),
      { numRuns: 500 },
    );
  });

  it('holds back only the end of a chunk that begins a needle', () => {
    const needles = new CredentialNeedles(['abcdefgh']);
    const s = new CredentialScrubber(needles, {});
    expect(Buffer.concat(s.write(Buffer.from('hello xyz'))).toString()).toBe('hello xyz');
    expect(Buffer.concat(s.write(Buffer.from('hello abc'))).toString()).toBe('hello ');
    expect(Buffer.concat(s.write(Buffer.from('defgh!'))).toString()).toBe(`${TOKEN}!`);
    expect(Buffer.concat(s.write(Buffer.from('abc'))).toString()).toBe('');
    expect(Buffer.concat(s.write(Buffer.from('zzz'))).toString()).toBe('abczzz');
    expect(Buffer.concat(s.end()).toString()).toBe('');
  });

  it('keeps what it holds bounded by the longest needle, byte by byte', () => {
    const secret = 'x'.repeat(30);
    const needles = new CredentialNeedles([secret]);
    const s = new CredentialScrubber(needles, {});
    let out = '';
    for (let i = 0; i < 1000; i++) {
      out += Buffer.concat(s.write(Buffer.from('x'))).toString();
      expect(s.heldBytes).toBeLessThan(needles.maxLength);
    }
    out += Buffer.concat(s.end()).toString();
    expect(out).not.toContain(secret);
  });

  it('scrubs a user:password pair and its base64, the password alone, not a short value', () => {
    const needles = new CredentialNeedles(['svc', 'p4ssw0rd!', 'svc:p4ssw0rd!']);
    const counts: MaskCounts = {};
    const basic = Buffer.from('svc:p4ssw0rd!').toString('base64');
    expect(needles.scrubString(`Basic ${basic}; user svc`, counts)).toBe(`Basic ${TOKEN}; user svc`);
    expect(needles.scrubString('svc:p4ssw0rd!', counts)).toBe(TOKEN);
    expect(needles.scrubString('pw=p4ssw0rd%21', counts)).toBe(`pw=${TOKEN}`);
    expect(counts).toEqual({ [CREDENTIAL_RULE]: 3 });
  });

  it('is a stream too, with counts when it ends', async () => {
    const stream = new CredentialScrubStream(new CredentialNeedles(['tok-123456789']));
    const out: Buffer[] = [];
    await pipeline(
      Readable.from([Buffer.from('a tok-12'), Buffer.from('3456789 b')]),
      stream,
      new Writable({
        write(c: Buffer, _e, cb) {
          out.push(c);
          cb();
        },
      }),
    );
    expect(Buffer.concat(out).toString()).toBe(`a ${TOKEN} b`);
    expect(stream.counts).toEqual({ [CREDENTIAL_RULE]: 1 });
  });
});
