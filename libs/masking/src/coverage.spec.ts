import fc from 'fast-check';
import { Masker, createMaskingStream, resolveMaskingRules } from './index';
import { base62, base62CrcValid, crc32, entropy, ssnValid } from './checksums';
import { DETECTORS } from './detectors';
import { base64Fragments } from './encoded';
import { BASE64, Rng } from '../test/fakes';
import { checksummed, coreOf, FORMATS } from '../test/formats';
import { maskJsonChunks, maskTextPieces, splitAt, throughStream } from '../test/streams';

const secrets = new Masker(resolveMaskingRules(['secrets']));
const rng = new Rng(2024);

describe('checksums', () => {
  it('computes CRC-32 and base 62 as the token formats define them', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(base62(0, 6)).toBe('000000');
    expect(base62(61, 2)).toBe('0z');
    expect(base62(0xffffffff, 6)).toBe('4gfFC3');
  });

  it('accepts a GitHub or npm body only with its own checksum', () => {
    const token = checksummed('ghp_', rng);
    expect(base62CrcValid(token.slice(4))).toBe(true);
    const flipped = token.slice(0, 10) + (token[10] === 'a' ? 'b' : 'a') + token.slice(11);
    expect(base62CrcValid(flipped.slice(4))).toBe(false);
    expect(secrets.maskText(`t ${token}`).text).toBe('t [MASKED:github-token]');
    expect(secrets.maskText(`t ${flipped}`).text).toBe(`t ${flipped}`);
  });

  it('knows the US social security number rules', () => {
    expect(ssnValid('219', '09', '9998')).toBe(true);
    expect(ssnValid('000', '12', '3456')).toBe(false);
    expect(ssnValid('666', '12', '3456')).toBe(false);
    expect(ssnValid('901', '12', '3456')).toBe(false);
    expect(ssnValid('123', '00', '3456')).toBe(false);
    expect(ssnValid('123', '45', '0000')).toBe(false);
  });

  it('measures entropy in bits per character', () => {
    expect(entropy('aaaa')).toBe(0);
    expect(entropy('abcd')).toBe(2);
  });
});

describe('generic secrets', () => {
  const generic = new Masker(resolveMaskingRules(['secret-assignment']));

  it.each([
    'password=changeme',
    'api_key: <your-key>',
    'token: xxxxxxxxxxxx',
    'secret: ${APP_SECRET}',
    'password: "********"',
    'api_key=your_api_key_here',
    'client_secret: example-secret',
    'password=dummy',
    'DB_PASS=${DB_PASS}',
    'token: {{ .Values.token }}',
    'password: "..."',
    'secret_key = os.environ["SECRET_KEY"]',
    'password: 00000000',
  ])('lets the template %s pass', (text) => {
    expect(generic.maskText(text)).toEqual({ text, counts: {} });
  });

  it.each([
    ['DB_PASS=Zq8-mLw2', 'Zq8-mLw2'],
    ['{\\"password\\": \\"n0t-s0-s3cret\\"}', 'n0t-s0-s3cret'],
    ['signing_key: 9f8e7d6c5b4a', '9f8e7d6c5b4a'],
    ['Authorization: Basic ' + Buffer.from('svc:pa55w0rd').toString('base64'), null],
  ])('masks %s', (text, secret) => {
    const masked = secrets.maskText(text).text;
    expect(masked).toContain('[MASKED:');
    if (secret !== null) expect(masked).not.toContain(secret);
  });

  it('reads a JSON key as naming its value, in the stream and in maskJson alike', () => {
    const body = {
      service: 'billing',
      db_password: 'Zq8mLw2xTT',
      datadog_api_key: rng.chars('0123456789abcdef', 32),
      note: 'plain',
    };
    const oneShot = secrets.maskJson(body).value as Record<string, unknown>;
    expect(oneShot.db_password).toBe('[MASKED:secret-assignment]');
    expect(oneShot.datadog_api_key).toBe('[MASKED:datadog-key]');
    expect(oneShot.note).toBe('plain');
    const bytes = Buffer.from(JSON.stringify(body));
    for (const cut of [5, 20, 31, 40, 60]) {
      const { out } = maskJsonChunks(secrets, splitAt(bytes, [cut]));
      expect(JSON.parse(out.toString())).toEqual(oneShot);
    }
    // A key that names a secret before a non-string value does not carry over to the next string.
    const nested = { api_token: 7, title: 'Zq8mLw2xTT' };
    expect(secrets.maskJson(nested).value).toEqual(nested);
    expect(maskJsonChunks(secrets, [Buffer.from(JSON.stringify(nested))]).out.toString()).toBe(JSON.stringify(nested));
  });
});

describe('encoded values', () => {
  const token = checksummed('ghp_', rng);

  it('finds every alignment of an anchor in base64', () => {
    for (const pad of ['', 'x', 'xy']) {
      const encoded = Buffer.from(`${pad}ghp_`).toString('base64');
      expect(base64Fragments('ghp_').some((f) => encoded.includes(f))).toBe(true);
    }
  });

  it('masks a Kubernetes Secret value that decodes to a credential, as a whole', async () => {
    const secret = {
      kind: 'Secret',
      data: {
        DATABASE_URL: Buffer.from('postgres://app:Zq8mLw2xTT@db:5432/app').toString('base64'),
        DEPLOY: Buffer.from(token).toString('base64'),
        LOG_LEVEL: Buffer.from('info').toString('base64'),
      },
    };
    const expected = {
      kind: 'Secret',
      data: {
        DATABASE_URL: '[MASKED:uri-password]',
        DEPLOY: '[MASKED:github-token]',
        LOG_LEVEL: secret.data.LOG_LEVEL,
      },
    };
    expect(secrets.maskJson(secret).value).toEqual(expected);
    const { out } = await throughStream(createMaskingStream(secrets, 'application/json'), [
      Buffer.from(JSON.stringify(secret)),
    ]);
    expect(JSON.parse(out.toString())).toEqual(expected);
  });

  it('masks a file from the GitHub contents API (base64 wrapped at 60 columns)', async () => {
    const file = `# settings\nAPP_ENV=production\nNPM_TOKEN=${checksummed('npm_', rng)}\nLOG_LEVEL=info\n`;
    const content =
      Buffer.from(file)
        .toString('base64')
        .replace(/(.{60})/g, '$1\n') + '\n';
    const body = JSON.stringify({ name: '.env', encoding: 'base64', content });
    const { out, counts } = await throughStream(createMaskingStream(secrets, 'application/json'), [Buffer.from(body)]);
    expect(JSON.parse(out.toString()).content).toBe('[MASKED:npm-token]');
    expect(counts).toEqual({ 'npm-token': 1 });
  });

  it('masks a URL-encoded connection string and a base64 Basic credential in text', () => {
    const text = `GET /connect?dsn=${encodeURIComponent('mysql://root:Zq8mLw2xTT@h/db')}&x=1`;
    expect(secrets.maskText(text).text).toBe('GET /connect?dsn=[MASKED:uri-password]&x=1');
  });

  it('leaves base64 of plain text and random base64 alone', () => {
    for (const text of [
      Buffer.from('The quick brown fox jumps over the lazy dog').toString('base64'),
      Buffer.from('hello, world: this is only a note').toString('base64url'),
      rng.chars(BASE64, 64),
    ]) {
      expect(secrets.maskText(`v ${text}`).text).toBe(`v ${text}`);
      expect(secrets.maskJson({ v: text }).value).toEqual({ v: text });
    }
  });
});

describe('personal data', () => {
  it('masks SSNs, phone numbers and IBANs with pii, not with secrets', () => {
    const text = 'ssn 219-09-9998, phone +14155552671, iban DE89370400440532013000';
    expect(secrets.maskText(text).text).toBe(text);
    const pii = new Masker(resolveMaskingRules(['pii']));
    expect(pii.maskText(text).text).toBe('ssn [MASKED:us-ssn], phone [MASKED:phone-number], iban [MASKED:iban]');
  });

  it('finds them in JSON strings through the stream digit gate', () => {
    const pii = new Masker(resolveMaskingRules(['pii']));
    const body = Buffer.from(JSON.stringify({ a: 'ssn 219-09-9998', b: 'tel +44 20 7946 0958' }));
    expect(JSON.parse(maskJsonChunks(pii, [body]).out.toString())).toEqual({
      a: 'ssn [MASKED:us-ssn]',
      b: 'tel [MASKED:phone-number]',
    });
  });
});

describe('split safety of every format', () => {
  const all = new Masker(resolveMaskingRules(['secrets']));

  it('masks each kind the same whatever chunk boundaries cut its text', () => {
    const gen = new Rng(5);
    const samples = FORMATS.map((f) => {
      const value = f.make(gen);
      return { kind: f.kind, value, text: `line one\nsome log ${f.envName}=${value} more words\nlast line\n` };
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (which, raw) => {
          const { kind, value, text } = samples[which];
          const whole = all.maskText(text);
          expect(whole.text).not.toContain(coreOf(kind, value));
          const cuts = [...new Set(raw.map((c) => c % text.length))].sort((a, b) => a - b);
          const pieces: string[] = [];
          let from = 0;
          for (const cut of cuts) {
            pieces.push(text.slice(from, cut));
            from = cut;
          }
          pieces.push(text.slice(from));
          expect(maskTextPieces(all, pieces, { window: all.hasDetectors ? 4096 : 0, context: 512, step: 8 })).toEqual(
            whole,
          );
          const json = Buffer.from(JSON.stringify({ v: `${kind} ${value}`, [f(kind)]: value }));
          const jsonWhole = maskJsonChunks(all, [json]).out.toString();
          const jsonCuts = cuts.map((c) => c % json.length).sort((a, b) => a - b);
          expect(maskJsonChunks(all, splitAt(json, jsonCuts)).out.toString()).toBe(jsonWhole);
        },
      ),
      { numRuns: 400, seed: 19 },
    );
  });
});

function f(kind: string): string {
  return `${kind.replace(/-/g, '_')}_value`;
}

describe('pattern safety', () => {
  /** Quantifiers without an upper bound, outside character classes and escapes. */
  function unbounded(source: string): string[] {
    const found: string[] = [];
    let inClass = false;
    for (let i = 0; i < source.length; i++) {
      const c = source[i];
      if (c === '\\') {
        i++;
        continue;
      }
      if (inClass) {
        if (c === ']') inClass = false;
        continue;
      }
      if (c === '[') inClass = true;
      else if (c === '*' || c === '+') found.push(`${c} at ${i}`);
      else if (c === '{' && /^\{\d+,\}/.test(source.slice(i))) found.push(`{n,} at ${i}`);
    }
    return found;
  }

  it('bounds every quantifier of every detector pattern', () => {
    for (const d of DETECTORS) {
      for (const re of d.patterns ?? [])
        expect({ id: d.id, found: unbounded(re.source) }).toEqual({ id: d.id, found: [] });
    }
  });

  it('does work that grows linearly on inputs built to make patterns backtrack', () => {
    // Counted in regular expression calls and characters scanned, not in time: each pathological
    // input of twice the size must cost at most a little more than twice the work.
    const inputs: Array<(n: number) => string> = [
      (n) => 'ghp_'.repeat(n),
      (n) => `password=${'a'.repeat(n)}`,
      (n) => 'sk-'.repeat(n),
      (n) => `${'1'.repeat(n)}:AA`,
      (n) => 'eyJ'.repeat(n) + '.',
      (n) => `${'a'.repeat(n)}://${'b:'.repeat(n)}`,
      (n) => `datadog ${'a1 '.repeat(n)}`,
      (n) => `Basic ${'QUFB'.repeat(n)}`,
      (n) => 'MTA'.repeat(n),
      (n) => `${'%3A'.repeat(n)}`,
      (n) => `${'Z2hw'.repeat(n)}`,
    ];
    for (const make of inputs) {
      const small = work(make(2000));
      const large = work(make(4000));
      expect(large).toBeLessThanOrEqual(small * 2.5 + 1000);
    }
  });
});

/** Characters the regular expressions of a masking pass look at, counted through lastIndex. */
function work(text: string): number {
  let scanned = 0;
  const exec = RegExp.prototype.exec;
  RegExp.prototype.exec = function (this: RegExp, s: string) {
    const before = this.lastIndex;
    const m = exec.call(this, s);
    scanned += (m === null ? s.length : this.lastIndex) - before + 1;
    return m;
  };
  try {
    secrets.maskText(text);
    secrets.maskJson({ v: text });
  } finally {
    RegExp.prototype.exec = exec;
  }
  return scanned;
}
