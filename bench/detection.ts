/**
 * Detection quality of the masking detectors: recall per credential kind and precision over
 * benign look-alikes, through the streaming masker the HTTP path uses (`createMaskingStream`,
 * JSON or text by content type, bodies cut into chunks at seeded random places), with the
 * `secrets` rule set (every secret detector and the default field rules).
 *
 *   node dist/bench/detection.js [samples-per-kind-and-context=3] [seed=1]
 *
 * Every credential is format-valid and fake, generated from a seeded generator
 * (libs/masking/test/formats.ts), and placed in eight settings: a JSON member, a .env line, a
 * YAML mapping, a log line, a URL query parameter, a sentence, a Kubernetes Secret (`data`,
 * base64) and a file from the GitHub contents API (base64, wrapped). A credential counts as found
 * when no 16-character piece of it (nor its encoded form) is left in the output. A look-alike
 * counts as a false positive when anything in its body is masked.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Masker, createMaskingStream, resolveMaskingRules } from '@airlock/masking';
import { SeededRandom } from '@airlock/testing';
import { coreOf, FORMATS, type Format } from '../libs/masking/test/formats';

const HEX = '0123456789abcdef';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64 = `${ALNUM}+/`;

interface Body {
  contentType: string;
  text: string;
  /** Strings that must not survive masking (positives only). */
  needles: string[];
}

type Context = (f: { name: string; label: string; value: string }) => Body;

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

const CONTEXTS: Record<string, Context> = {
  json: ({ name, value }) => ({
    contentType: 'application/json',
    text: JSON.stringify({ service: 'billing', [name.toLowerCase()]: value, region: 'eu-west-1', replicas: 3 }),
    needles: [],
  }),
  env: ({ name, value }) => ({
    contentType: 'text/plain',
    text: `APP_ENV=production\n${name}=${value.includes('\n') ? JSON.stringify(value) : value}\nLOG_LEVEL=info\n`,
    needles: [],
  }),
  yaml: ({ name, value }) => ({
    contentType: 'text/plain',
    text: value.includes('\n')
      ? `config:\n  ${name.toLowerCase()}: |\n${value
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n')}\n  timeout: 30\n`
      : `config:\n  ${name.toLowerCase()}: ${value}\n  timeout: 30\n`,
    needles: [],
  }),
  log: ({ label, value }) => ({
    contentType: 'text/plain',
    text: `2026-11-02T10:00:00.123Z INFO  [deploy] worker=7 ${label}: ${JSON.stringify(value).slice(1, -1)} accepted\n`,
    needles: [],
  }),
  url: ({ name, value }) => ({
    contentType: 'text/plain',
    text: `GET https://api.example.com/v1/items?page=2&${name.toLowerCase()}=${encodeURIComponent(value)}&sort=asc HTTP/1.1\n`,
    needles: [encodeURIComponent(value)],
  }),
  prose: ({ label, value }) => ({
    contentType: 'text/plain',
    text: `Here is the ${label}: ${value} (rotate it after the demo).\n`,
    needles: [],
  }),
  'k8s-secret': ({ name, value }) => ({
    contentType: 'application/json',
    text: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'app-config', namespace: 'prod' },
      type: 'Opaque',
      data: { APP_ENV: b64('production'), [name]: b64(value) },
    }),
    needles: [b64(value)],
  }),
  'github-content': ({ name, value }) => {
    const file = `# deploy settings\nAPP_ENV=production\n${name}=${value.includes('\n') ? JSON.stringify(value) : value}\nLOG_LEVEL=info\n`;
    const content = b64(file).replace(/(.{60})/g, '$1\n') + '\n';
    return {
      contentType: 'application/json',
      text: JSON.stringify({ type: 'file', encoding: 'base64', name: '.env', path: 'deploy/.env', content }),
      needles: [b64(file).slice(0, 60)],
    };
  },
};

/** Pieces of a secret that must not be left: the whole if short, else every 16-character window's start. */
function leaked(out: string, secret: string): boolean {
  if (secret.length <= 16) return out.includes(secret);
  for (let i = 0; i + 16 <= secret.length; i += 4) if (out.includes(secret.slice(i, i + 16))) return true;
  return out.includes(secret.slice(secret.length - 16));
}

function uuid(rng: SeededRandom): string {
  const h = rng.chars(HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

/** Benign strings that look like secrets: hashes, ids, documented examples, placeholders, plain base64. */
const LOOK_ALIKES: Array<{ kind: string; make: (rng: SeededRandom) => string }> = [
  { kind: 'sha1', make: (r) => r.chars(HEX, 40) },
  { kind: 'sha256', make: (r) => r.chars(HEX, 64) },
  { kind: 'git-sha-in-text', make: (r) => `commit ${r.chars(HEX, 40)} (HEAD -> main)` },
  { kind: 'uuid', make: uuid },
  { kind: 'docker-digest', make: (r) => `registry.example.com/app@sha256:${r.chars(HEX, 64)}` },
  { kind: 'npm-integrity', make: (r) => `sha512-${r.chars(BASE64, 86)}==` },
  { kind: 'aws-example-key-id', make: () => 'AKIAIOSFODNN7EXAMPLE' },
  { kind: 'aws-example-secret', make: () => 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  { kind: 'aws-arn', make: (r) => `arn:aws:iam::${r.chars('0123456789', 12)}:role/deploy-${r.chars(HEX, 6)}` },
  { kind: 'placeholder-password', make: (r) => r.pick(['password=changeme', 'password: "********"', 'DB_PASSWORD=${DB_PASSWORD}', 'password=<your-password>', 'password: example']) },
  { kind: 'placeholder-token', make: (r) => r.pick(['GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'token: {{ .Values.token }}', 'api_key: <your-key>', 'API_KEY=your_api_key_here', 'SLACK_TOKEN=xoxb-your-token']) },
  { kind: 'placeholder-stripe', make: (r) => r.pick(['STRIPE_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx', 'sk_live_...', 'whsec_...']) },
  { kind: 'placeholder-secret', make: (r) => r.pick(['secret: xxxxxxxxxxxx', 'client_secret=dummy', 'SECRET_KEY=os.environ["SECRET_KEY"]', 'secret: ***', 'private_key: <paste here>']) },
  { kind: 'bearer-placeholder', make: (r) => r.pick(['Authorization: Bearer <token>', 'Authorization: Bearer YOUR_TOKEN_HERE', 'token_type: bearer']) },
  { kind: 'base64-text', make: (r) => b64(`${r.pick(['The build finished', 'Deploy to staging', 'hello, world', 'Quarterly report'])} at ${r.int(24)}:${10 + r.int(50)} for ${r.pick(['ops', 'the team', 'Ada', 'release 4.2'])}`) },
  { kind: 'base64url-json', make: (r) => Buffer.from(JSON.stringify({ page: r.int(100), sort: 'asc', cursor: r.chars(HEX, 8) })).toString('base64url') },
  { kind: 'jwt-like-not-jwt', make: (r) => `${Buffer.from(`{"kid":"${r.chars(HEX, 6)}"}`).toString('base64url')}.${Buffer.from('{"x":1}').toString('base64url')}.c2ln` },
  { kind: 'version', make: (r) => r.pick([`v${r.int(5)}.${r.int(30)}.${r.int(100)}`, `${r.int(5)}.${r.int(30)}.${r.int(9)}-rc.${r.int(5)}`, `go1.${r.int(25)}.${r.int(9)}`, `node-v${r.int(24)}.${r.int(20)}.0-linux-x64`]) },
  { kind: 'timestamp', make: (r) => new Date(1_600_000_000_000 + r.int(2e11)).toISOString() },
  { kind: 'ip-port', make: (r) => `10.${r.int(256)}.${r.int(256)}.${r.int(256)}:${1024 + r.int(60000)}` },
  { kind: 'url-no-password', make: (r) => r.pick([`postgres://app@db.internal:5432/app`, `https://example.com/path?page=${r.int(9)}&sort=asc`, `redis://cache.internal:6379/0`, `https://user@git.example.com/org/repo.git`]) },
  { kind: 'request-id', make: (r) => `req_${r.chars(ALNUM, 24)}` },
  { kind: 'slack-ids', make: (r) => `channel C${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 8)} user U${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 8)}` },
  { kind: 'github-bad-checksum', make: (r) => `ghp_${r.chars(ALNUM, 36)}` },
  { kind: 'npm-bad-checksum', make: (r) => `npm_${r.chars(ALNUM, 36)}` },
  { kind: 'words-with-prefixes', make: (r) => r.pick(['task_live_updates', 'desk-top sk- and sk-1', 'pip install scikit-learn', 'the bearer of bad news', 'Francisco precious ciao', 'key-value store', 'en-us locale', 'first. last. best.']) },
  { kind: 'config-numbers', make: (r) => r.pick([`max_tokens: ${r.int(9000)}`, `token_expiry_seconds: ${r.int(9000)}`, 'secretName: db-creds', 'password_min_length: 12', `timeout_ms=${r.int(90000)}`]) },
  { kind: 'hex-id-with-key', make: (r) => `trace_id=${r.chars(HEX, 32)} span_id=${r.chars(HEX, 16)}` },
  { kind: 'md5', make: (r) => `md5: ${r.chars(HEX, 32)}` },
  { kind: 'public-key', make: (r) => `-----BEGIN PUBLIC KEY-----\n${r.chars(BASE64, 64)}\n${r.chars(BASE64, 64)}\n-----END PUBLIC KEY-----` },
  { kind: 'certificate', make: (r) => `-----BEGIN CERTIFICATE-----\n${r.chars(BASE64, 64)}\n${r.chars(BASE64, 40)}==\n-----END CERTIFICATE-----` },
  { kind: 'ssh-public-key', make: (r) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${r.chars(BASE64, 43)} ops@example.com` },
  { kind: 'random-base64-blob', make: (r) => r.chars(BASE64, 120) },
]; // prettier-ignore

const BENIGN_CONTEXTS: Record<string, (value: string) => { contentType: string; text: string }> = {
  json: (v) => ({ contentType: 'application/json', text: JSON.stringify({ id: 42, note: v, status: 'ok' }) }),
  env: (v) => ({
    contentType: 'text/plain',
    text: `# settings\n${v.includes('=') || v.includes(': ') ? v : `BUILD_REF=${v}`}\n`,
  }),
  log: (v) => ({ contentType: 'text/plain', text: `2026-11-02T10:00:00.123Z INFO  [api] ${v} handled\n` }),
  prose: (v) => ({ contentType: 'text/plain', text: `For reference, see ${v} in the docs.\n` }),
};

async function mask(masker: Masker, body: { contentType: string; text: string }, rng: SeededRandom): Promise<string> {
  const bytes = Buffer.from(body.text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + rng.int(Math.max(2, Math.floor(bytes.length / 2)));
    chunks.push(bytes.subarray(i, i + n));
    i += n;
  }
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks, { objectMode: false }),
    createMaskingStream(masker, body.contentType),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out).toString();
}

interface Tally {
  found: number;
  total: number;
  missed: string[];
}

/** The repository root: the nearest folder with nx.json above this script or the working directory. */
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
  const perCell = Number(process.argv[2] ?? 3);
  const seed = Number(process.argv[3] ?? 1);
  const rng = new SeededRandom(seed);
  const masker = new Masker(resolveMaskingRules(['secrets']));

  const byKind = new Map<string, Tally & { format: Format }>();
  const byContext = new Map<string, Tally>();
  let tp = 0;
  let positives = 0;
  for (const format of FORMATS) {
    const kindTally = { found: 0, total: 0, missed: [] as string[], format };
    byKind.set(format.kind, kindTally);
    for (const [contextName, context] of Object.entries(CONTEXTS)) {
      const ctxTally = byContext.get(contextName) ?? { found: 0, total: 0, missed: [] };
      byContext.set(contextName, ctxTally);
      for (let i = 0; i < perCell; i++) {
        const value = format.make(rng);
        const body = context({ name: format.envName, label: format.label, value });
        const out = await mask(masker, body, rng);
        const core = coreOf(format.kind, value);
        const found = !leaked(out, core) && body.needles.every((n) => !leaked(out, n));
        positives++;
        kindTally.total++;
        ctxTally.total++;
        if (found) {
          tp++;
          kindTally.found++;
          ctxTally.found++;
        } else if (!kindTally.missed.includes(contextName)) {
          kindTally.missed.push(contextName);
        }
      }
    }
  }

  let fp = 0;
  let negatives = 0;
  const distinct = new Set<string>();
  const falsePositives = new Map<string, number>();
  for (const alike of LOOK_ALIKES) {
    for (let i = 0; i < 6; i++) {
      const value = alike.make(rng);
      distinct.add(value);
      for (const [contextName, context] of Object.entries(BENIGN_CONTEXTS)) {
        const body = context(value);
        const out = await mask(masker, body, rng);
        negatives++;
        if (out !== body.text) {
          fp++;
          const key = `${alike.kind} (${contextName})`;
          falsePositives.set(key, (falsePositives.get(key) ?? 0) + 1);
        }
      }
    }
  }

  const recall = tp / positives;
  const precision = tp / (tp + fp);
  const kinds = [...byKind.values()].sort(
    (a, b) => a.found / a.total - b.found / b.total || a.format.kind.localeCompare(b.format.kind),
  );
  const lines = [
    '# Detection quality',
    '',
    `Measured ${new Date().toISOString()} with \`node dist/bench/detection.js ${perCell} ${seed}\`; load average ${loadavg()[0].toFixed(2)}.`,
    '',
    `Rule set \`secrets\` (${masker.hasDetectors ? 'every secret detector' : 'none'} and the default field rules), through \`createMaskingStream\` with bodies cut into chunks at seeded random places.`,
    `Positives: ${FORMATS.length} kinds of format-valid fake credentials × ${Object.keys(CONTEXTS).length} settings (${Object.keys(CONTEXTS).join(', ')}) × ${perCell} = ${positives}.`,
    `Negatives: ${distinct.size} distinct benign look-alikes of ${LOOK_ALIKES.length} kinds × ${Object.keys(BENIGN_CONTEXTS).length} settings (${Object.keys(BENIGN_CONTEXTS).join(', ')}) = ${negatives}.`,
    'A credential is found when no 16-character piece of it (nor of its encoded form) is left; a look-alike is a false positive when anything in its body changes.',
    '',
    `**Recall ${recall.toFixed(3)}** (${tp}/${positives}), **precision ${precision.toFixed(3)}** (${fp} false positives in ${negatives} benign bodies).`,
    `Goal recall ≥ 0.99 and precision ≥ 0.99: ${recall >= 0.99 ? 'recall met' : 'recall missed'}, ${precision >= 0.99 ? 'precision met' : 'precision missed'}.`,
    '',
    '## Recall per setting',
    '',
    '| setting | found | recall |',
    '| --- | ---: | ---: |',
    ...[...byContext.entries()].map(([c, t]) => `| ${c} | ${t.found}/${t.total} | ${(t.found / t.total).toFixed(3)} |`),
    '',
    '## False positives',
    '',
    ...(falsePositives.size === 0 ? ['None.'] : [...falsePositives.entries()].map(([k, n]) => `- ${k}: ${n}`)),
    '',
    '## Recall per kind (worst first)',
    '',
    '| kind | detector | found | recall | missed in |',
    '| --- | --- | ---: | ---: | --- |',
    ...kinds.map(
      (k) =>
        `| ${k.format.kind} | ${k.format.rule} | ${k.found}/${k.total} | ${(k.found / k.total).toFixed(3)} | ${k.missed.join(', ')} |`,
    ),
    '',
  ];
  const report = lines.join('\n');
  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'detection.md'), report);
  process.stdout.write(report);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
