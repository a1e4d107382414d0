import { Masker, resolveMaskingRules } from './index';
import { Fakes, Rng, ALNUM } from '../test/fakes';
import { maskJsonChunks, splitAt } from '../test/streams';
import { LONG_STRING_BYTES, MAX_DEPTH } from './json-stream';

const fakes = new Fakes(new Rng(11));
const ghp = fakes.github();
const akid = fakes.awsAccessKeyId();
const jwt = fakes.jwt();

const masker = new Masker(resolveMaskingRules(['secrets', 'pii', 'field:ssn']));

function oneShot(doc: string | Buffer, m = masker) {
  return maskJsonChunks(m, [Buffer.from(doc)]);
}

/** The stream's output, parsed, equals maskJson over the parsed input; counts agree. */
function expectSameAsMaskJson(doc: string, m = masker): void {
  const streamed = oneShot(doc, m);
  const direct = m.maskJson(JSON.parse(doc));
  expect(JSON.parse(streamed.out.toString('utf8'))).toEqual(direct.value);
  expect(streamed.counts).toEqual(direct.counts);
}

const sample = Buffer.from(
  `{"id": 7, "user": {"name": "Zoë \\u00e9\\ud83d\\ude00 😀", "email": "zoe@example.com",
  "password": {"old": ["a", 1], "new": null}, "apiKey": 1234},
 "events": [ {"msg": "pushed with ${ghp} \\"quoted\\" ok", "n": -1.5e3, "ok": true},
   {"a": {"b": {"c": {"d": {"ssn": "123-45-6789", "keep": "x"}}}}}, [], {} ],
 "${akid}": "key as secret", "url": "https:\\/\\/u:pw123456@db.example.com\\/x",
 "hidden": "\\u0041KIA${akid.slice(4)}", "jwt": "Bearer ${jwt}", "card": "4111 1111 1111 1111",
 "tab": "a\\tb", "esc": "\\\\ back \\/ slash", "unicode": "日本語 ${ghp}"}`,
);

describe('streaming JSON masker', () => {
  it('masks like maskJson over the parsed document', () => {
    expectSameAsMaskJson(sample.toString('utf8'));
    const { out, counts } = oneShot(sample);
    const text = out.toString('utf8');
    expect(text).not.toContain(ghp);
    expect(text).not.toContain(akid);
    expect(text).not.toContain(akid.slice(4));
    expect(text).not.toContain('pw123456');
    expect(counts).toMatchObject({
      'github-token': 2,
      'aws-access-key-id': 2,
      'field:password': 1,
      'field:apikey': 1,
      'field:ssn': 1,
      'uri-password': 1,
      jwt: 1,
      email: 1,
      'payment-card': 1,
    });
  });

  it('gives the one-shot output whatever byte boundaries split the document', () => {
    const whole = oneShot(sample);
    for (let cut = 1; cut < sample.length; cut++) {
      const split = maskJsonChunks(masker, splitAt(sample, [cut]));
      if (!split.out.equals(whole.out)) throw new Error(`split at byte ${cut} changed the output`);
      expect(split.counts).toEqual(whole.counts);
    }
    const bytes = Array.from({ length: sample.length - 1 }, (_, i) => i + 1);
    expect(maskJsonChunks(masker, splitAt(sample, bytes)).out.equals(whole.out)).toBe(true);
  });

  it('gives the one-shot output for random three-way splits', () => {
    const whole = oneShot(sample);
    const rng = new Rng(5);
    for (let k = 0; k < 300; k++) {
      const a = 1 + rng.int(sample.length - 2);
      const b = a + rng.int(sample.length - a);
      expect(maskJsonChunks(masker, splitAt(sample, [a, b])).out.equals(whole.out)).toBe(true);
    }
  });

  it('passes a document with nothing to mask through byte for byte', () => {
    const doc = Buffer.from(
      '\ufeff {"a" : [1, 2.5e-3, -0, true, false, null, "x\\"y\\\\z\\n", "\\u00e9 é 😀"],\n\t"b": {"c": {}}, "d": []}  ',
    );
    expect(oneShot(doc).out.equals(doc)).toBe(true);
    const split = maskJsonChunks(masker, splitAt(doc, [3, 9, 20, 41]));
    expect(split.out.equals(doc)).toBe(true);
  });

  it('masks a field rule at depth 5, whatever the value', () => {
    const doc = JSON.stringify({
      l1: { l2: [{ l3: { l4: { token: { nested: [1, { deep: ghp }], more: 'x' }, sibling: 'kept' } } }] },
      after: 'kept',
    });
    const { out, counts } = oneShot(doc);
    expect(JSON.parse(out.toString())).toEqual({
      l1: { l2: [{ l3: { l4: { token: '[MASKED:field:token]', sibling: 'kept' } } }] },
      after: 'kept',
    });
    expect(counts).toEqual({ 'field:token': 1 });
  });

  it('masks only the secret inside a string and keeps the rest of it', () => {
    const { out } = oneShot(`{"log": "user bob pushed ${ghp} to main \\ud83d\\ude00"}`);
    expect(JSON.parse(out.toString())).toEqual({ log: 'user bob pushed [MASKED:github-token] to main 😀' });
  });

  it('finds secrets hidden behind escapes', () => {
    const escaped = `{"a": "${ghp.slice(0, 3)}\\u005f${ghp.slice(4)}", "b": "postgres:\\/\\/app:pw@db\\/x"}`;
    const { out, counts } = oneShot(escaped);
    expect(JSON.parse(out.toString())).toEqual({
      a: '[MASKED:github-token]',
      b: 'postgres://app:[MASKED:uri-password]@db/x',
    });
    expect(counts).toEqual({ 'github-token': 1, 'uri-password': 1 });
  });

  it('keeps multi-byte characters whole when a chunk boundary cuts them', () => {
    const doc = Buffer.from(`{"k": "ü€😀 ${ghp} 😀€ü", "plain": "ü€😀"}`);
    const whole = oneShot(doc);
    expect(JSON.parse(whole.out.toString('utf8'))).toEqual({
      k: 'ü€😀 [MASKED:github-token] 😀€ü',
      plain: 'ü€😀',
    });
    for (let cut = 1; cut < doc.length; cut++) {
      expect(maskJsonChunks(masker, splitAt(doc, [cut])).out.equals(whole.out)).toBe(true);
    }
  });

  it('masks every top-level document of JSON lines', () => {
    const doc = `{"token": "a"}\n{"x": "${ghp}"}\n"${akid}"\n42\n`;
    const { out, counts } = oneShot(doc);
    expect(out.toString()).toBe(
      '{"token": "[MASKED:field:token]"}\n{"x": "[MASKED:github-token]"}\n"[MASKED:aws-access-key-id]"\n42\n',
    );
    expect(counts).toEqual({ 'field:token': 1, 'github-token': 1, 'aws-access-key-id': 1 });
  });

  describe('input that is not JSON', () => {
    it.each([
      ['a bad literal', `{"a": tru, "b": "${ghp}"}`],
      ['a missing colon', `{"a" "${ghp}"}`],
      ['a bad escape', `{"a": "x\\q ${ghp}"}`],
      ['trailing garbage', `{"a": 1} } ${ghp}`],
      ['plain text', `hello ${ghp}`],
      ['a cut-off string', `{"a": "pushed ${ghp}`],
      ['a cut-off escape', `{"a": "pushed ${ghp} \\u00`],
    ])('does not crash on %s and still masks the rest as text', (_name, doc) => {
      const whole = oneShot(doc);
      expect(whole.out.toString()).not.toContain(ghp);
      expect(whole.out.toString()).toContain('[MASKED:github-token]');
      expect(whole.counts['github-token']).toBe(1);
      for (let cut = 1; cut < doc.length; cut++) {
        const split = maskJsonChunks(masker, splitAt(Buffer.from(doc), [cut]));
        expect(split.out.toString()).not.toContain(ghp);
      }
    });

    it('takes nesting deeper than its limit for text, still masking', () => {
      const depth = MAX_DEPTH + 10;
      const doc = `${'['.repeat(depth)}"${ghp}"${']'.repeat(depth)}`;
      const { out, counts } = oneShot(doc);
      expect(out.toString()).toBe(`${'['.repeat(depth)}"[MASKED:github-token]"${']'.repeat(depth)}`);
      expect(counts).toEqual({ 'github-token': 1 });
    });

    it('keeps what was masked before the fault', () => {
      const doc = `{"password": "p1", "x": ${'['.repeat(3)} oops ${akid}`;
      const { out, counts } = oneShot(doc);
      expect(out.toString()).toBe('{"password": "[MASKED:field:password]", "x": [[[ oops [MASKED:aws-access-key-id]');
      expect(counts).toEqual({ 'field:password': 1, 'aws-access-key-id': 1 });
    });
  });

  describe('strings longer than the hold limit', () => {
    const filler = (n: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(n / 27)).slice(0, n);

    it('masks them in pieces, secrets at any place included, into valid JSON', () => {
      const long = `${filler(LONG_STRING_BYTES - 10)} ${ghp} \\n ${filler(LONG_STRING_BYTES)} \\u00e9 ${akid} ${filler(100_000)} ${jwt}`;
      const doc = Buffer.from(`{"big": "${long}", "after": "${ghp}"}`);
      const chunks: Buffer[] = [];
      for (let i = 0; i < doc.length; i += 65_536 + 7) chunks.push(doc.subarray(i, i + 65_536 + 7));
      const { out, counts } = maskJsonChunks(masker, chunks);
      const parsed = JSON.parse(out.toString('utf8')) as { big: string; after: string };
      expect(parsed.after).toBe('[MASKED:github-token]');
      expect(parsed.big).toBe(
        (JSON.parse(`"${long}"`) as string)
          .replace(ghp, '[MASKED:github-token]')
          .replace(akid, '[MASKED:aws-access-key-id]')
          .replace(jwt, '[MASKED:jwt]'),
      );
      expect(counts).toEqual({ 'github-token': 2, 'aws-access-key-id': 1, jwt: 1 });
    });

    it('skips a huge value of a masked field without holding it', () => {
      const doc = Buffer.from(`{"secret": "${filler(3 * LONG_STRING_BYTES)}", "next": "${ghp}"}`);
      const chunks: Buffer[] = [];
      for (let i = 0; i < doc.length; i += 65_536) chunks.push(doc.subarray(i, i + 65_536));
      const { out } = maskJsonChunks(masker, chunks);
      expect(out.toString()).toBe('{"secret": "[MASKED:field:secret]", "next": "[MASKED:github-token]"}');
    });
  });

  it('with field rules only, leaves strings alone and masks fields', () => {
    const fields = new Masker(resolveMaskingRules(['fields']));
    const doc = `{"pass\\u0077ord": "x", "note": "${ghp}", "Client-Secret": {"a": 1}}`;
    const { out, counts } = oneShot(doc, fields);
    expect(out.toString()).toBe(
      `{"pass\\u0077ord": "[MASKED:field:password]", "note": "${ghp}", "Client-Secret": "[MASKED:field:clientsecret]"}`,
    );
    expect(counts).toEqual({ 'field:password': 1, 'field:clientsecret': 1 });
  });

  describe('random documents with planted secrets', () => {
    const rng = new Rng(2024);
    const plants = [
      () => fakes.github(),
      () => fakes.awsAccessKeyId(),
      () => fakes.jwt(),
      () => `postgres://u:${fakes.alnum(10)}@h/db`,
      () => `Bearer ${fakes.alnum(40)}`,
      () => fakes.pem('PRIVATE KEY', 2),
      () => `card 4111-1111-1111-1111`,
      () => `mail ${fakes.alnum(5).toLowerCase()}@example.org`,
      () => `password=${fakes.alnum(8)}`,
      () => fakes.slackBot(),
    ];
    const keys = ['id', 'name', 'token', 'apiKey', 'data', 'items', 'password', 'note', 'x', 'ssn', 'Secret'];

    const alphabet = [...`${ALNUM}  .,-_/:é😀"\\\n\t`, '\udc00'];

    function text(): string {
      let s = '';
      for (let k = rng.int(12); k > 0; k--) s += rng.pick(alphabet);
      if (rng.next() < 0.3) s += ` ${rng.pick(plants)()} `;
      if (rng.next() < 0.3) s += rng.chars(ALNUM, rng.int(8));
      return s;
    }

    function value(depth: number): unknown {
      const roll = rng.next();
      if (depth > 5 || roll < 0.35) return text();
      if (roll < 0.45) return rng.int(1_000_000) / (rng.next() < 0.5 ? 1 : 7);
      if (roll < 0.5) return rng.pick([true, false, null]);
      if (roll < 0.75) return Array.from({ length: rng.int(4) }, () => value(depth + 1));
      const obj: Record<string, unknown> = {};
      for (let k = rng.int(5); k > 0; k--) {
        const key = rng.next() < 0.1 ? rng.pick(plants)() : rng.pick(keys) + (rng.next() < 0.5 ? rng.int(3) : '');
        obj[key] = value(depth + 1);
      }
      return obj;
    }

    /** JSON text with random whitespace and random (valid) escapes. */
    function serialise(v: unknown): string {
      const ws = () => rng.pick(['', '', ' ', '\n  ', '\t']);
      if (typeof v === 'string') {
        let out = '"';
        for (const ch of v) {
          const code = ch.codePointAt(0) as number;
          if (ch === '"' || ch === '\\') out += `\\${ch}`;
          else if (code < 0x20 || (code >= 0xd800 && code <= 0xdfff) || rng.next() < 0.05) {
            // Control characters and lone surrogates must be escaped; others sometimes are.
            for (let u = 0; u < ch.length; u++) out += `\\u${ch.charCodeAt(u).toString(16).padStart(4, '0')}`;
          } else if (ch === '/' && rng.next() < 0.5) out += '\\/';
          else out += ch;
        }
        return `${out}"`;
      }
      if (Array.isArray(v)) return `[${ws()}${v.map((x) => serialise(x)).join(`${ws()},${ws()}`)}${ws()}]`;
      if (v !== null && typeof v === 'object') {
        const members = Object.entries(v).map(([k, x]) => `${serialise(k)}${ws()}:${ws()}${serialise(x)}`);
        return `{${ws()}${members.join(`,${ws()}`)}${ws()}}`;
      }
      return JSON.stringify(v);
    }

    it('always gives valid JSON, the same as maskJson, however it is chunked', () => {
      for (let k = 0; k < 300; k++) {
        const doc = serialise(value(0));
        const bytes = Buffer.from(doc);
        const whole = oneShot(bytes);
        const parsed = JSON.parse(whole.out.toString('utf8')) as unknown;
        const direct = masker.maskJson(JSON.parse(doc));
        expect(parsed).toEqual(direct.value);
        expect(whole.counts).toEqual(direct.counts);
        const cuts = [...new Set(Array.from({ length: 1 + rng.int(6) }, () => rng.int(bytes.length)))].sort(
          (a, b) => a - b,
        );
        expect(maskJsonChunks(masker, splitAt(bytes, cuts)).out.equals(whole.out)).toBe(true);
      }
    });
  });
});
