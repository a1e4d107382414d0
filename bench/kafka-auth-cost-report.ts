/**
 * The summary of bench/kafka-auth-cost.sh: reads the raw output of each run (the benchmark's
 * stdout with the time each line was printed, and the CPU samples of bench/proc-cpu.ts), charges
 * each process the CPU it used during the timed phases, and writes a markdown report.
 *
 *   node dist/bench/kafka-auth-cost-report.js <run directory> <report.md>
 *
 * Phases, from the benchmarks' own figures and the time their lines were printed:
 * - request/reply: the report is printed as soon as the 16-in-flight phase ends; that phase took
 *   calls / (calls/s) seconds, and the sequential phase the same way just before it;
 * - recorder ingest: the `backlog:` line ends the produce phase (its duration is on the line); the
 *   recorder then starts (`recorder start` seconds) and stores the backlog (`time to store`).
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuBetween, readSamples, type CpuSample } from './proc-cpu';

type Side = 'base' | 'cur';

interface Run {
  label: string;
  side: Side;
  round: number;
  figures: Record<string, number>;
}

interface Line {
  t: number;
  text: string;
}

function readLines(file: string): Line[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const tab = l.indexOf('\t');
      return { t: Number(l.slice(0, tab)), text: l.slice(tab + 1) };
    });
}

function find(lines: Line[], pattern: RegExp, what: string): { line: Line; m: RegExpExecArray } {
  for (const line of lines) {
    const m = pattern.exec(line.text);
    if (m) return { line, m };
  }
  throw new Error(`${what} not found in the benchmark's output`);
}

const num = (s: string): number => Number(s.replace(/[,*]/g, ''));

/** µs of CPU per operation for each process group over [t0, t1]; `other` is the rest of the machine. */
function cpuPerOp(samples: CpuSample[], t0: number, t1: number, ops: number, prefix: string): Record<string, number> {
  const ms = cpuBetween(samples, t0, t1);
  const out: Record<string, number> = {};
  let known = 0;
  for (const [group, v] of Object.entries(ms)) {
    if (group === 'machine') continue;
    known += v;
    out[`${prefix}.${group}`] = (v * 1000) / ops;
  }
  out[`${prefix}.other`] = ((ms.machine - known) * 1000) / ops;
  out[`${prefix}.seconds`] = (t1 - t0) / 1000;
  // The idle side's broker, in CPU ms per second of the phase.
  out[`${prefix}.kafka-idle-ms-per-s`] = (ms['kafka-idle'] * 1000) / (t1 - t0);
  return out;
}

function requestReply(dir: string): Record<string, number> {
  const lines = readLines(join(dir, 'stdout.tsv'));
  const samples = readSamples(join(dir, 'cpu.jsonl'));
  const end = find(lines, /^# Kafka request\/reply round trip/, 'the report title').line.t;
  const row = (re: RegExp, what: string): number[] =>
    find(lines, re, what)
      .m.slice(1)
      .map((s) => num(s));
  const [seqCalls, seqP50, seqP99, seqMax, seqRate] = row(
    /^\| sequential \(1 in flight\) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| (\d+) \|/,
    'the sequential row',
  );
  const [conc, cCalls, cP50, cP99, cMax, cRate] = row(
    /^\| (\d+) in flight \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| (\d+) \|/,
    'the in-flight row',
  );
  const cStart = end - (cCalls / cRate) * 1000;
  const sStart = cStart - (seqCalls / seqRate) * 1000;
  return {
    'seq.p50': seqP50,
    'seq.p99': seqP99,
    'seq.max': seqMax,
    'seq.rate': seqRate,
    concurrency: conc,
    'conc.p50': cP50,
    'conc.p99': cP99,
    'conc.max': cMax,
    'conc.rate': cRate,
    ...cpuPerOp(samples, sStart, cStart, seqCalls, 'seqcpu'),
    ...cpuPerOp(samples, cStart, end, cCalls, 'conccpu'),
  };
}

function ingest(dir: string): Record<string, number> {
  const lines = readLines(join(dir, 'stdout.tsv'));
  const samples = readSamples(join(dir, 'cpu.jsonl'));
  const backlog = find(lines, /^backlog: (\d+) events \((\d+) bytes each\) in ([\d.]+) s/, 'the backlog line');
  const [events, , produceSeconds] = backlog.m.slice(1).map(num);
  const cell = (re: RegExp, what: string): number => num(find(lines, re, what).m[1]);
  const rate = cell(/^\| ingest rate.*\| \*\*([\d,]+) events\/s\*\* \|/, 'the ingest rate');
  const best = cell(/^\| best 5-second window \| ([\d,]+) events\/s \|/, 'the best window');
  const store = cell(/^\| time to store the backlog \| ([\d.]+) s \|/, 'the time to store');
  const boot = cell(/^\| recorder start \(migrations, group join\) \| ([\d.]+) s \|/, 'the recorder start');
  const stored = cell(/^\| events in the store \(exact count\) \| (\d+) \|/, 'the exact count');
  if (stored !== events) throw new Error(`${dir}: ${stored} events stored of ${events}`);
  const t = backlog.line.t;
  const ingestStart = t + boot * 1000;
  return {
    events,
    'ingest.rate': rate,
    'ingest.best': best,
    'ingest.seconds': store,
    'produce.seconds': produceSeconds,
    'produce.rate': events / produceSeconds,
    'recorder.boot': boot,
    ...cpuPerOp(samples, t - produceSeconds * 1000, t, events, 'producecpu'),
    ...cpuPerOp(samples, ingestStart, ingestStart + store * 1000, events, 'ingestcpu'),
  };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function main(): void {
  const [dir, out] = process.argv.slice(2);
  if (!dir || !out) {
    process.stderr.write('usage: kafka-auth-cost-report <run directory> <report.md>\n');
    process.exit(2);
  }
  const runs: Run[] = [];
  for (const label of readdirSync(dir).sort()) {
    const m = /^(rr|ingest)-(base|cur)-(\d+)$/.exec(label);
    if (!m || !existsSync(join(dir, label, 'run.json'))) continue;
    const info = JSON.parse(readFileSync(join(dir, label, 'run.json'), 'utf8')) as { rc: number };
    if (info.rc !== 0) throw new Error(`${label} failed (exit ${info.rc}); see ${join(dir, label, 'stderr.txt')}`);
    const figures = m[1] === 'rr' ? requestReply(join(dir, label)) : ingest(join(dir, label));
    runs.push({ label, side: m[2] as Side, round: Number(m[3]), figures });
  }
  const info = readFileSync(join(dir, 'run-info.txt'), 'utf8');
  const setting = (k: string): string => new RegExp(`^${k}=(.*)$`, 'm').exec(info)?.[1]?.trim() ?? 'unknown';

  const kind = (label: string): string => label.split('-')[0];
  const of = (k: string, side: Side): Run[] => runs.filter((r) => kind(r.label) === k && r.side === side);
  const rounds = Math.max(...runs.map((r) => r.round));
  const digits = (v: number): string =>
    Math.abs(v) >= 1000
      ? Math.round(v).toLocaleString('en-US')
      : Math.abs(v) >= 100
        ? v.toFixed(0)
        : Math.abs(v) >= 10
          ? v.toFixed(1)
          : v.toFixed(2);
  const row = (k: string, key: string, name: string): string => {
    const cells: string[] = [];
    const means: Record<Side, number> = { base: NaN, cur: NaN };
    for (const side of ['base', 'cur'] as Side[]) {
      const values = of(k, side).map((r) => r.figures[key]);
      for (let i = 0; i < rounds; i++) cells.push(values[i] === undefined ? '–' : digits(values[i]));
      means[side] = mean(values);
    }
    const delta = ((means.cur - means.base) / Math.abs(means.base)) * 100;
    const deltaText = Number.isFinite(delta) ? `${delta >= 0 ? '+' : ''}${delta.toFixed(1)} %` : '–';
    return `| ${name} | ${cells.slice(0, rounds).join(' / ')} | ${cells.slice(rounds).join(' / ')} | ${digits(means.base)} | ${digits(means.cur)} | ${deltaText} |`;
  };
  const head = [
    `| figure | baseline, runs 1${rounds > 1 ? ` … ${rounds}` : ''} | current, runs 1${rounds > 1 ? ` … ${rounds}` : ''} | baseline mean | current mean | Δ |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const rrCpu = (phase: string, label: string): string[] =>
    [
      ['client', 'bench client (node, the ingress’s RequestReplyClient)'],
      ['services', 'policy service (node)'],
      ['kafka', 'Kafka broker'],
      ['other', 'everything else on the machine'],
    ].map(([g, name]) => row('rr', `${phase}.${g}`, `${label}: ${name}, CPU µs/call`));
  const ingestCpu = (phase: string, label: string, groups: [string, string][]): string[] =>
    groups.map(([g, name]) => row('ingest', `${phase}.${g}`, `${label}: ${name}, CPU µs/event`));
  const conc = of('rr', 'cur')[0]?.figures.concurrency ?? 16;
  const signing = existsSync(join(dir, 'signing-cost.md')) ? readFileSync(join(dir, 'signing-cost.md'), 'utf8') : '';

  const lines = [
    '# Cost of Kafka authentication and message signatures (issue 15)',
    '',
    `Measured ${setting('date')} on ${setting('cpu')}, ${setting('node')}, by \`bench/kafka-auth-cost.sh\`.`,
    `Baseline: ${setting('base').split(' ')[1]} (before the Kafka authentication work) against a broker without authentication.`,
    `Current: ${setting('cur').split(' ')[1]} against the broker with SASL/SCRAM-SHA-512 and ACLs, requests and decisions signed (Ed25519).`,
    `Both brokers: Kafka 4.1.1, one KRaft node, the same settings but for authentication; one PostgreSQL each.`,
    `Runs alternate (baseline, current, baseline, current, ...); each figure lists every run, then the mean of the runs.`,
    `Request/reply: ${setting('rounds').split(' ')[1]?.replace('calls=', '') ?? ''} calls sequentially, then the same number ${conc} in flight. Recorder ingest: a backlog of ${setting('rounds').split(' ')[3]?.replace('events=', '') ?? ''} audit events.`,
    'CPU: user + system time from /proc, charged to the phase it was used in; µs per call or per event.',
    '',
    '## Request/reply (ingress client → policy → reply)',
    '',
    ...head,
    row('rr', 'seq.p50', 'sequential p50 ms'),
    row('rr', 'seq.p99', 'sequential p99 ms'),
    row('rr', 'seq.rate', 'sequential calls/s'),
    row('rr', 'conc.p50', `${conc} in flight p50 ms`),
    row('rr', 'conc.p99', `${conc} in flight p99 ms`),
    row('rr', 'conc.rate', `${conc} in flight calls/s`),
    ...rrCpu('seqcpu', 'sequential'),
    ...rrCpu('conccpu', `${conc} in flight`),
    row('rr', 'conccpu.kafka-idle-ms-per-s', `${conc} in flight: the other (idle) broker, CPU ms/s`),
    '',
    '## Recorder ingest (airlock.audit → PostgreSQL)',
    '',
    ...head,
    row('ingest', 'ingest.rate', 'ingest events/s (first stored to last)'),
    row('ingest', 'ingest.best', 'best 5-second window, events/s'),
    row('ingest', 'ingest.seconds', 'time to store the backlog, s'),
    row('ingest', 'recorder.boot', 'recorder start (migrations, group join), s'),
    ...ingestCpu('ingestcpu', 'ingest', [
      ['services', 'recorder (node)'],
      ['kafka', 'Kafka broker'],
      ['postgres', 'PostgreSQL'],
      ['client', 'bench process (polls stats)'],
      ['other', 'everything else on the machine'],
    ]),
    row('ingest', 'ingestcpu.kafka-idle-ms-per-s', 'ingest: the other (idle) broker, CPU ms/s'),
    row('ingest', 'produce.rate', 'writing the backlog (kafkajs producer, acks=all), events/s'),
    ...ingestCpu('producecpu', 'writing the backlog', [
      ['client', 'producer (node)'],
      ['kafka', 'Kafka broker'],
    ]),
    '',
    ...(signing ? ['## Ed25519 per message (micro-benchmark, one core)', '', signing.trim(), ''] : []),
  ];
  writeFileSync(out, `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
