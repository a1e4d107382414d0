import { randomBytes } from 'node:crypto';
import { Masker, classifyContentType, createMaskingStream, resolveMaskingRules } from './index';
import { Fakes, Rng } from '../test/fakes';
import { splitAt, throughStream } from '../test/streams';
import { sniffBody } from './content-type';

const fakes = new Fakes(new Rng(21));
const ghp = fakes.github();
const masker = new Masker(resolveMaskingRules(['secrets']));

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

describe('classifyContentType', () => {
  it.each([
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['Application/JSON', 'json'],
    ['application/problem+json', 'json'],
    ['application/vnd.api+json', 'json'],
    ['application/x-ndjson', 'json'],
    ['text/plain', 'text'],
    ['text/html; charset=utf-8', 'text'],
    ['text/csv', 'text'],
    ['application/xml', 'text'],
    ['application/atom+xml', 'text'],
    ['application/x-www-form-urlencoded', 'text'],
    ['application/javascript', 'text'],
    ['application/yaml', 'text'],
    ['image/svg+xml', 'text'],
    ['image/png', 'binary'],
    ['audio/mpeg', 'binary'],
    ['video/mp4', 'binary'],
    ['font/woff2', 'binary'],
    ['application/octet-stream', 'binary'],
    ['application/zip', 'binary'],
    ['application/gzip', 'binary'],
    ['application/pdf', 'binary'],
    ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'binary'],
    ['application/x-something-new', 'sniff'],
    ['', 'sniff'],
    ['nonsense', 'sniff'],
    [undefined, 'sniff'],
  ])('%s is %s', (contentType, kind) => {
    expect(classifyContentType(contentType)).toBe(kind);
  });

  it('sniffs JSON, text and binary from the first bytes', () => {
    expect(sniffBody(Buffer.from('\ufeff  \n{"a":1}'))).toBe('json');
    expect(sniffBody(Buffer.from('[1,2]'))).toBe('json');
    expect(sniffBody(Buffer.from('hello world\nsecond line\t'))).toBe('text');
    expect(sniffBody(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00]))).toBe('binary');
    expect(sniffBody(Buffer.from([1, 2, 3, 4, 5, 6, 65, 66]))).toBe('binary');
  });
});

describe('createMaskingStream', () => {
  it('masks JSON bodies with field rules and detectors, across chunks', async () => {
    const doc = Buffer.from(JSON.stringify({ user: { password: 'p', note: `uses ${ghp}` }, list: [1, 2] }));
    const { out, counts } = await throughStream(createMaskingStream(masker, 'application/json'), chunked(doc, 7));
    expect(JSON.parse(out.toString())).toEqual({
      user: { password: '[MASKED:field:password]', note: 'uses [MASKED:github-token]' },
      list: [1, 2],
    });
    expect(counts).toEqual({ 'field:password': 1, 'github-token': 1 });
  });

  it('masks a secret that chunk boundaries cut in a text body', async () => {
    const text = Buffer.from(`${'log line\n'.repeat(20_000)}token ${ghp} here\n${'more\n'.repeat(20_000)}`);
    const at = text.indexOf(ghp);
    for (const cut of [at, at + 1, at + 20, at + ghp.length - 1]) {
      const chunks = [...chunked(text.subarray(0, cut), 65_536), ...chunked(text.subarray(cut), 65_536)];
      const { out, counts } = await throughStream(createMaskingStream(masker, 'text/plain'), chunks);
      expect(out.toString()).toBe(text.toString().replace(ghp, '[MASKED:github-token]'));
      expect(counts).toEqual({ 'github-token': 1 });
    }
  });

  it('keeps bytes that are not UTF-8 in text bodies exactly', async () => {
    const body = Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(` é ${ghp} `), Buffer.from([0xa0, 0x80])]);
    const { out } = await throughStream(createMaskingStream(masker, 'text/plain'), splitAt(body, [2, 9]));
    expect(
      out.equals(
        Buffer.concat([
          Buffer.from([0xff, 0xfe, 0xc3]),
          Buffer.from(' é [MASKED:github-token] '),
          Buffer.from([0xa0, 0x80]),
        ]),
      ),
    ).toBe(true);
  });

  it('passes binary bodies byte for byte, even when they hold secret-like bytes', async () => {
    const body = Buffer.concat([randomBytes(100_000), Buffer.from(`"password": "${ghp}"`), randomBytes(50_000)]);
    for (const type of ['image/png', 'application/octet-stream', 'application/zip', 'application/pdf']) {
      const { out, counts } = await throughStream(createMaskingStream(masker, type), chunked(body, 4096));
      expect(out.equals(body)).toBe(true);
      expect(counts).toEqual({});
    }
  });

  it('decides a body without a content type from its first bytes', async () => {
    const json = Buffer.from(JSON.stringify({ token: 'abc', padding: 'x'.repeat(1000) }));
    const viaJson = await throughStream(createMaskingStream(masker, undefined), chunked(json, 100));
    expect(viaJson.counts).toEqual({ 'field:token': 1 });

    const text = Buffer.from(`plain ${ghp}`);
    const viaText = await throughStream(createMaskingStream(masker, undefined), [text]);
    expect(viaText.out.toString()).toBe('plain [MASKED:github-token]');

    const binary = Buffer.concat([Buffer.from([0, 1, 2, 3]), Buffer.from(ghp), randomBytes(2000)]);
    const viaBinary = await throughStream(createMaskingStream(masker, undefined), chunked(binary, 300));
    expect(viaBinary.out.equals(binary)).toBe(true);
  });

  it('passes everything through when masking is off', async () => {
    const off = new Masker({ fieldNames: [], detectors: [] });
    const body = Buffer.from(`{"password": "${ghp}"}`);
    const { out, counts } = await throughStream(createMaskingStream(off, 'application/json'), [body]);
    expect(out.equals(body)).toBe(true);
    expect(counts).toEqual({});
  });

  it('masks field rules only in JSON when no detector is on', async () => {
    const fields = new Masker(resolveMaskingRules(['fields']));
    const text = await throughStream(createMaskingStream(fields, 'text/plain'), [Buffer.from(`password=${ghp}`)]);
    expect(text.out.toString()).toBe(`password=${ghp}`);
    const json = await throughStream(createMaskingStream(fields, 'application/json'), [
      Buffer.from(`{"password": "${ghp}"}`),
    ]);
    expect(json.out.toString()).toBe('{"password": "[MASKED:field:password]"}');
  });

  it('accepts string chunks', async () => {
    const stream = createMaskingStream(masker, 'text/plain');
    const out: Buffer[] = [];
    stream.on('data', (c: Buffer) => out.push(c));
    const ended = new Promise((resolve) => stream.on('end', resolve));
    stream.write(`a ${ghp.slice(0, 10)}`);
    stream.end(`${ghp.slice(10)} b`);
    await ended;
    expect(Buffer.concat(out).toString()).toBe('a [MASKED:github-token] b');
    expect(stream.counts).toEqual({ 'github-token': 1 });
  });
});
