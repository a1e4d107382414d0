import { Masker, resolveMaskingRules } from './index';
import { BASE64, Fakes, Rng } from '../test/fakes';
import { maskTextPieces } from '../test/streams';
import { engineOf } from './masker';
import { IncrementalTextMasker } from './text-stream';

const fakes = new Fakes(new Rng(3));
const rng = new Rng(99);

function cutInto(text: string, cuts: number[]): string[] {
  const pieces: string[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    pieces.push(text.slice(from, cut));
    from = cut;
  }
  pieces.push(text.slice(from));
  return pieces;
}

function randomPieces(text: string, maxPiece: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = 1 + rng.int(maxPiece);
    pieces.push(text.slice(i, i + n));
    i += n;
  }
  return pieces;
}

function prose(words: number): string {
  const vocabulary = ['the', 'deploy', 'ran', 'at', 'noon', 'and', 'logs', 'show', 'nothing', 'odd', '\n'];
  return Array.from({ length: words }, () => rng.pick(vocabulary)).join(' ');
}

describe('incremental text masking', () => {
  it('masks a secret whatever chunk boundary cuts it (small window, every boundary)', () => {
    const masker = new Masker(resolveMaskingRules(['github-token', 'aws-access-key-id', 'uri-password']));
    const text = `${prose(150)} ${fakes.github()} ${prose(10)} postgres://app:pw-${fakes.alnum(6)}@db/x ${fakes.awsAccessKeyId()}.${prose(300)} ${fakes.github()} ${prose(100)}`;
    expect(text.length).toBeGreaterThan(2500);
    const whole = masker.maskText(text);
    expect(whole.counts).toEqual({ 'github-token': 2, 'aws-access-key-id': 1, 'uri-password': 1 });
    const options = { window: 600, context: 400, step: 16 };
    // Output leaves before the end: the window really slides.
    const early = new IncrementalTextMasker(engineOf(masker), {}, options);
    expect(early.write(text.slice(0, 1500)).length).toBeGreaterThan(800);
    for (let cut = 1; cut < text.length; cut++) {
      const split = maskTextPieces(masker, cutInto(text, [cut]), options);
      if (split.text !== whole.text) throw new Error(`cut at ${cut} changed the output`);
      expect(split.counts).toEqual(whole.counts);
    }
    expect(maskTextPieces(masker, [...text], options)).toEqual(whole);
  });

  it('gives the one-shot result for long texts in random pieces with every detector', () => {
    const masker = new Masker(resolveMaskingRules(['secrets', 'pii']));
    const plants = [
      () => fakes.github(),
      () => fakes.jwt(),
      () => `password=${fakes.alnum(10)}`,
      () => `Bearer ${fakes.alnum(40)}`,
      () => fakes.pem('RSA PRIVATE KEY', 30),
      () => `aws_secret_access_key = ${fakes.awsSecretKey()}`,
      () => 'card 4111 1111 1111 1111',
      () => `mail a.b@example.com`,
      () => `https://hooks.slack.com/services/${fakes.slackWebhookPath()}`,
    ];
    let text = '';
    while (text.length < 400_000) text += `${prose(50 + rng.int(500))} ${rng.pick(plants)()} `;
    const whole = masker.maskText(text);
    for (const maxPiece of [1000, 70_000, 300_000]) {
      expect(maskTextPieces(masker, randomPieces(text, maxPiece))).toEqual(whole);
    }
  });

  it('masks a private key far longer than the window as one span', () => {
    const masker = new Masker(resolveMaskingRules(['secrets']));
    const key = fakes.pem('RSA PRIVATE KEY', 4000); // about 260 KB
    const text = `before\n${key}\nafter ${fakes.github()}`;
    const expected = {
      text: 'before\n[MASKED:private-key]\nafter [MASKED:github-token]',
      counts: { 'private-key': 1, 'github-token': 1 },
    };
    expect(masker.maskText(text)).toEqual(expected);
    for (const maxPiece of [7, 5000, 100_000])
      expect(maskTextPieces(masker, randomPieces(text, maxPiece))).toEqual(expected);
    // Pieces that cut the END line at every place.
    const endAt = text.indexOf('-----END');
    for (let k = 0; k < 30; k++) {
      expect(maskTextPieces(masker, cutInto(text, [endAt - 200_000, endAt + k]))).toEqual(expected);
    }
  });

  it('masks to the end a private key that never ends', () => {
    const masker = new Masker(resolveMaskingRules(['private-key']));
    const text = `head -----BEGIN PRIVATE KEY-----\n${rng.chars(BASE64, 200_000)}`;
    const expected = { text: 'head [MASKED:private-key]', counts: { 'private-key': 1 } };
    expect(masker.maskText(text)).toEqual(expected);
    expect(maskTextPieces(masker, randomPieces(text, 30_000))).toEqual(expected);
  });

  it('ends a private key body at the first character no key holds', () => {
    const masker = new Masker(resolveMaskingRules(['private-key']));
    const body = rng.chars(BASE64, 150_000);
    const text = `{"k": "-----BEGIN EC PRIVATE KEY-----\\n${body}", "next": "visible"}`;
    const expected = masker.maskText(text);
    expect(expected.text).toBe('{"k": "[MASKED:private-key]", "next": "visible"}');
    expect(maskTextPieces(masker, randomPieces(text, 40_000))).toEqual(expected);
  });

  it('lets complete lines go at once, holding back only the unfinished one', () => {
    const masker = new Masker(resolveMaskingRules(['secrets']));
    const ghp = fakes.github();
    const stream = new IncrementalTextMasker(engineOf(masker), {});
    expect(stream.write('event: a\ndata: {"n": 1}\n\ndata: par')).toBe('event: a\ndata: {"n": 1}\n\n');
    expect(stream.write(`tial ${ghp.slice(0, 9)}`)).toBe('');
    expect(stream.write(`${ghp.slice(9)}\n\n`)).toBe('data: partial [MASKED:github-token]\n\n');
    expect(stream.end()).toBe('');
  });

  it('never masks a mask again', () => {
    const masker = new Masker(resolveMaskingRules(['secrets']));
    const text = `token=${fakes.github()} ${'x '.repeat(50_000)} password="${fakes.jwt()}"`;
    const { text: out, counts } = maskTextPieces(masker, randomPieces(text, 9000));
    expect(out).not.toMatch(/\[MASKED:[^\]]*\[MASKED/);
    expect(counts).toEqual({ 'github-token': 1, jwt: 1 });
  });
});
