/**
 * Masking throughput on one core: a generated ~64 MB JSON corpus of API-like records (nested
 * objects and arrays, some long text fields, mostly benign strings and numbers, a sprinkling of
 * planted secrets and personal data) through
 * - the streaming masker (`createMaskingStream`, bytes in 64 KiB chunks), and
 * - the one-shot `maskJson` over the parsed records,
 * with all secret detectors and the default field rules, with personal data detectors too, with
 * the default field rules alone (the JSON tokenizer without detectors), and with masking off (the
 * stream machinery alone). The same records as `text/plain`, one per line, go through the text
 * masker too.
 *
 *   node dist/bench/masking.js [megabytes=64] [runs=3]
 *
 * Single-threaded; the figure per configuration is the best of the runs.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Masker, createMaskingStream, resolveMaskingRules, type MaskingConfig } from '@airlock/masking';
import { SeededRandom } from '@airlock/testing';

const CHUNK = 64 * 1024;
const GOAL_MBPS = 250;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const ALNUM_BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const WORDS = (
  'the of and to in is for on with as by at from that this be are was it or an will can not ' +
  'service request response user account order payment invoice customer product shipment ' +
  'status pending complete failed retry timeout region cluster node deployment release build ' +
  'pipeline artifact version update config cache queue worker schedule report metric alert'
).split(' ');
const FIRST = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Radia', 'Edsger', 'Frances'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Perlman'];
const CITIES = ['Berlin', 'Lisbon', 'Oslo', 'Dublin', 'Madrid', 'Vienna', 'Prague', 'Warsaw'];

function sentence(rng: SeededRandom, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(rng.pick(WORDS));
  return out.join(' ');
}

function uuid(rng: SeededRandom): string {
  const h = rng.chars(HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

function iso(rng: SeededRandom): string {
  const d = new Date(1_600_000_000_000 + rng.int(200_000_000) * 1000);
  return d.toISOString();
}

/** A token in GitHub's format: 30 random characters and their CRC-32 in base 62. */
function githubToken(rng: SeededRandom): string {
  const body = rng.chars(ALNUM, 30);
  let n = crc32(body);
  let sum = '';
  for (let i = 0; i < 6; i++, n = Math.floor(n / 62)) sum = ALNUM_BASE62[n % 62] + sum;
  return `ghp_${body}${sum}`;
}

/** A planted secret or personal datum, in the shapes the detectors look for. */
function planted(rng: SeededRandom): string {
  switch (rng.int(10)) {
    case 0:
      return `deploy with token ${githubToken(rng)} please`;
    case 1:
      return `AKIA${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
    case 2:
      return `postgres://app:${rng.chars(ALNUM, 16)}@db.internal:5432/app`;
    case 3:
      return `Bearer ${rng.chars(ALNUM, 40)}`;
    case 4:
      return `xoxb-${rng.chars('0123456789', 12)}-${rng.chars('0123456789', 13)}-${rng.chars(ALNUM, 24)}`;
    case 5:
      return `sk_live_${rng.chars(ALNUM, 24)}`;
    case 6:
      return `card 4111 1111 1111 1111 on file`;
    case 7:
      return `IBAN GB82 WEST 1234 5698 7654 32`;
    case 8:
      return `password=${rng.chars(ALNUM, 12)}`;
    default:
      return `AIza${rng.chars(ALNUM + '-_', 35)}`;
  }
}

function record(rng: SeededRandom, i: number): Record<string, unknown> {
  const first = rng.pick(FIRST);
  const last = rng.pick(LAST);
  const r: Record<string, unknown> = {
    id: i,
    uuid: uuid(rng),
    name: `${first} ${last}`,
    email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
    created_at: iso(rng),
    updated_at: iso(rng),
    active: rng.next() < 0.8,
    score: Math.round(rng.next() * 1e6) / 1000,
    tags: Array.from({ length: 1 + rng.int(5) }, () => rng.pick(WORDS)),
    address: {
      street: `${1 + rng.int(200)} ${rng.pick(LAST)} Street`,
      city: rng.pick(CITIES),
      zip: String(10000 + rng.int(89999)),
      geo: { lat: rng.next() * 180 - 90, lon: rng.next() * 360 - 180 },
    },
    metrics: Array.from({ length: 4 + rng.int(8) }, () => Math.round(rng.next() * 1e5) / 100),
    events: Array.from({ length: rng.int(4) }, () => ({
      type: rng.pick(['login', 'logout', 'purchase', 'refund', 'view']),
      at: iso(rng),
      ip: `10.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`,
      ok: rng.next() < 0.9,
    })),
    status: rng.pick(['pending', 'complete', 'failed']),
    version: `${rng.int(5)}.${rng.int(20)}.${rng.int(50)}`,
  };
  if (rng.next() < 0.15) r.description = sentence(rng, 80 + rng.int(300));
  if (rng.next() < 0.02) r.notes = `${sentence(rng, 10)} ${planted(rng)} ${sentence(rng, 10)}`;
  if (rng.next() < 0.005) r.api_key = rng.chars(ALNUM, 32);
  if (rng.next() < 0.005) r.credentials = { user: 'svc', password: rng.chars(ALNUM, 16) };
  return r;
}

function corpus(megabytes: number): { bytes: Buffer; records: number } {
  const rng = new SeededRandom(42);
  const parts: string[] = [];
  let size = 2;
  let i = 0;
  const target = megabytes * 1024 * 1024;
  while (size < target) {
    const s = JSON.stringify(record(rng, i++));
    parts.push(s);
    size += s.length + 1;
  }
  return { bytes: Buffer.from(`[${parts.join(',')}]`), records: i };
}

async function streamOnce(
  masker: Masker,
  chunks: Buffer[],
  contentType = 'application/json',
): Promise<{ seconds: number; out: number }> {
  let out = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.length;
      cb();
    },
  });
  const started = performance.now();
  await pipeline(Readable.from(chunks, { objectMode: false }), createMaskingStream(masker, contentType), sink);
  return { seconds: (performance.now() - started) / 1000, out };
}

function maskJsonOnce(masker: Masker, value: unknown): { seconds: number; masked: number } {
  const started = performance.now();
  const { counts } = masker.maskJson(value);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, masked: Object.values(counts).reduce((a, b) => a + b, 0) };
}

/** The repository root: the nearest folder with nx.json above this script, else above the working directory. */
function repoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'nx.json'))) return dir;
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error('repository root (nx.json) not found');
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0];
  const megabytes = Number(process.argv[2] ?? 64);
  const runs = Number(process.argv[3] ?? 3);
  const { bytes, records } = corpus(megabytes);
  const mb = bytes.length / (1024 * 1024);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK));

  const configs: Array<{ name: string; config: MaskingConfig }> = [
    { name: 'secrets + default fields', config: resolveMaskingRules(['secrets']) },
    { name: 'secrets + fields + PII', config: resolveMaskingRules(['secrets', 'pii']) },
    { name: 'default fields only', config: resolveMaskingRules(['fields']) },
    { name: 'off (no rules: pass-through)', config: { fieldNames: [], detectors: [] } },
  ];

  // Streaming first, before the parsed corpus fills the heap; then the one-shot maskJson.
  const streaming = new Map<string, { mbps: number; outBytes: number }>();
  for (const { name, config } of configs) {
    const masker = new Masker(config);
    let best = Infinity;
    let outBytes = 0;
    for (let r = 0; r < runs; r++) {
      const s = await streamOnce(masker, chunks);
      best = Math.min(best, s.seconds);
      outBytes = s.out;
    }
    streaming.set(name, { mbps: mb / best, outBytes });
    process.stdout.write(`streaming, ${name}: ${(mb / best).toFixed(0)} MB/s\n`);
  }
  // The same records as text, one per line, through the text masker.
  const lines = Buffer.from(bytes.toString('latin1').slice(1, -1).replaceAll('},{"id"', '}\n{"id"'), 'latin1');
  const lineChunks: Buffer[] = [];
  for (let i = 0; i < lines.length; i += CHUNK) lineChunks.push(lines.subarray(i, i + CHUNK));
  const textRows: string[] = [];
  for (const { name, config } of configs.slice(0, 2)) {
    const masker = new Masker(config);
    let best = Infinity;
    for (let r = 0; r < runs; r++) best = Math.min(best, (await streamOnce(masker, lineChunks, 'text/plain')).seconds);
    const mbps = lines.length / (1024 * 1024) / best;
    textRows.push(`| ${name} | ${mbps.toFixed(0)} |`);
    process.stdout.write(`text streaming, ${name}: ${mbps.toFixed(0)} MB/s\n`);
  }

  const parsed: unknown = JSON.parse(bytes.toString('utf8'));
  const rows: string[] = [];
  for (const { name, config } of configs) {
    const masker = new Masker(config);
    let best = Infinity;
    let masked = 0;
    for (let r = 0; r < runs; r++) {
      const j = maskJsonOnce(masker, parsed);
      best = Math.min(best, j.seconds);
      masked = j.masked;
    }
    const s = streaming.get(name) as { mbps: number; outBytes: number };
    // A masker that is off returns its input at once: there is no throughput to speak of.
    const oneShot = config.detectors.length + config.fieldNames.length === 0 ? 'no-op' : (mb / best).toFixed(0);
    process.stdout.write(`maskJson, ${name}: ${oneShot} MB/s\n`);
    rows.push(
      `| ${name} | ${s.mbps.toFixed(0)} | ${oneShot} | ${masked} | ${(s.outBytes / (1024 * 1024)).toFixed(1)} |`,
    );
  }
  const streamingAll = (streaming.get(configs[0].name) as { mbps: number }).mbps;

  const report = [
    '# Masking throughput (one core)',
    '',
    `Measured ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}; single thread; load average ${loadAtStart.toFixed(2)} when it started.`,
    `Corpus: ${mb.toFixed(1)} MB of generated JSON, ${records} API-like records (nested objects and arrays, 15% with a long text field, 2% with a planted secret or personal datum in text, 1% with a secret-named field).`,
    `Streaming: \`createMaskingStream(masker, 'application/json')\` fed ${CHUNK / 1024} KiB chunks through a pipeline. maskJson: \`masker.maskJson(value)\` over the parsed records (parsing not timed). MB/s of JSON bytes; best of ${runs} runs.`,
    '',
    '| rules | streaming MB/s | maskJson MB/s | values masked | output MB |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    'The same records as text (`text/plain`, one record per line), through the windowed text masker:',
    '',
    '| rules | text streaming MB/s |',
    '| --- | ---: |',
    ...textRows,
    '',
    `Goal: ≥ ${GOAL_MBPS} MB/s per core streaming with all secret detectors and the default field rules → ${streamingAll >= GOAL_MBPS ? 'met' : 'missed'} (${streamingAll.toFixed(0)} MB/s).`,
    '',
  ].join('\n');
  const out = join(repoRoot(), 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'masking.md'), report);
  process.stdout.write(`\n${report}`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
