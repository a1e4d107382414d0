/**
 * The audit path at a steady rate: what each event costs the recorder and the broker in CPU, and
 * how long it takes from publication to its row in the store, when events arrive one by one as
 * the ingress emits them (not as a backlog).
 *
 * This process plays the ingress: an AuditPublisher over a kafkajs producer configured as the
 * ingress configures its own (defaults: linger 50 ms, at least 5 ms between produce requests,
 * acknowledgement deadline 3 s; AUDIT_LINGER_MS and AUDIT_REQUEST_INTERVAL_MS override them as
 * they do the ingress's), publishing operations
 * evenly spread over each second; an operation is one event its caller awaits (emit, as before
 * forwarding) and one published in the background (emitLingering, as after the answer). One
 * recorder (default window) stores them. After a warm-up of 30 s at the rate (BENCH_WARMUP_S):
 * a recorder just started spends its first half minute or so compiling its hot paths, at 13–15 %
 * of a core where it then runs at 10–11 % (measured in 10 s steps over 170 s at 2,000 events/s),
 * a cost of its start, not of the events. Then CPU time of the recorder process and
 * of the Kafka broker is read from /proc over the measured interval and divided by the events
 * published in it; the CPU of both when idle is reported too, sampled for 15 s before the load and
 * again after it (the broker's background varies from one sample to the next), and what the load
 * added above their mean. The wait of each awaited event for its acknowledgement is recorded as
 * the caller sees it. Latency from publication to the store is the recorder's own exact record
 * (GET /audit/latency): from the time in the event id, set when the publisher built the event, to
 * the commit of its row, per millisecond.
 *
 *   node dist/bench/audit-steady.js [events/s=2000] [seconds=60]
 *
 * RECORDER_NODE_ARGS are node flags for the recorder, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof";
 * AUDIT_BATCH_WINDOW_MS and RECORDER_PIPELINES are passed to the recorder when set. Results go to
 * bench/results/audit-steady-<rate>.md, the settings named when not the defaults (e.g.
 * audit-steady-2000-interval20.md). BENCH_NO_RESULT=1 prints the figures without writing them to bench/results (a profiling run).
 *
 * Needs the local infrastructure (infra/local/start.sh) and a build (npm run build).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { Topics, uuidv7, type AuditEventDraft } from '@airlock/contracts';
import { AuditPublisher } from '@airlock/messaging';
import {
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  consumerLag,
  freePort,
  infraEnv,
  kafkaSasl,
  repoRoot,
  runId,
} from '@airlock/testing';
import { childProcesses, exitedChildrenCpuMs, processCpuMs } from './proc-cpu';
import { percentile } from './percentile';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function brokerPid(): number {
  const out = execFileSync('pgrep', ['-f', 'kafka\\.Kafka'], { encoding: 'utf8' }).trim().split('\n');
  if (out.length !== 1 || !out[0]) throw new Error(`expected one Kafka broker process, found: ${out.join(', ')}`);
  return Number(out[0]);
}

/** Every PostgreSQL process, including backends that ended (charged to the server, their parent). */
function postgresCpuMs(): number {
  const pids = execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  const server = execFileSync('pgrep', ['-x', '-o', 'postgres'], { encoding: 'utf8' }).trim();
  return pids.reduce((sum, p) => sum + processCpuMs(p), exitedChildrenCpuMs(Number(server)));
}

type Latency = { ms: Record<string, number>; beyond: number; limitMs: number };

/** The interval's latencies: the later record minus the earlier one. */
function latencyBetween(before: Latency, after: Latency): { counts: Map<number, number>; beyond: number } {
  const counts = new Map<number, number>();
  for (const [ms, n] of Object.entries(after.ms)) {
    const d = n - (before.ms[ms] ?? 0);
    if (d > 0) counts.set(Number(ms), d);
  }
  return { counts, beyond: after.beyond - before.beyond };
}

const IDLE_SAMPLE_S = 15;

/** CPU ms per second of the broker and the recorder over IDLE_SAMPLE_S with no load of ours. */
async function idleRates(broker: number, recorder: number): Promise<{ broker: number; recorder: number }> {
  const b0 = processCpuMs(broker);
  const r0 = processCpuMs(recorder);
  await sleep(IDLE_SAMPLE_S * 1000);
  return {
    broker: (processCpuMs(broker) - b0) / IDLE_SAMPLE_S,
    recorder: (processCpuMs(recorder) - r0) / IDLE_SAMPLE_S,
  };
}

/** p50 / p99 / max of the acknowledgement waits, in ms with one decimal. */
function ackFigures(waits: number[]): string {
  if (waits.length === 0) return 'none';
  const sorted = [...waits].sort((a, b) => a - b);
  return [50, 99, 100].map((p) => percentile(sorted, p).toFixed(1)).join(' / ');
}

function percentileOfCounts(counts: Map<number, number>, total: number, q: number): number {
  const sorted = [...counts].sort((a, b) => a[0] - b[0]);
  let seen = 0;
  for (const [ms, n] of sorted) {
    seen += n;
    if (seen >= q * total) return ms;
  }
  return Infinity;
}

function draft(sessionId: string): AuditEventDraft {
  return {
    type: 'operation.completed',
    sessionId,
    requestId: uuidv7(),
    actor: { issuer: 'https://idp.test', subject: 'agent-synthetic', groups: ['agents'] },
    connection: 'demo',
    protocol: 'http',
    source: 'ingress-proxy',
    data: { status: 200, durationMs: 1.5, upstreamMs: 1.1, bytesOut: 512, masked: { 'aws-access-key': 1 } },
  };
}

async function main(): Promise<void> {
  const rate = Number(process.argv[2] ?? 2000);
  const seconds = Number(process.argv[3] ?? 60);
  const infra = infraEnv();
  const prefix = `bench-${runId()}`;
  const idp = await TestIdentityProvider.start();
  const db = await TestDatabase.create('airlock_bench_steady');
  const workDir = mkdtempSync(join(tmpdir(), 'airlock-bench-steady-'));
  const recorder = new ServiceProcess(
    'recorder',
    await freePort(),
    {
      ...db.standaloneRecorderEnv(workDir, prefix, idp),
      LOG_LEVEL: 'warn',
      // The recorder's own defaults unless the run names a window.
      ...(process.env.AUDIT_BATCH_WINDOW_MS ? { AUDIT_BATCH_WINDOW_MS: process.env.AUDIT_BATCH_WINDOW_MS } : {}),
      ...(process.env.RECORDER_PIPELINES ? { RECORDER_PIPELINES: process.env.RECORDER_PIPELINES } : {}),
    },
    process.env.RECORDER_NODE_ARGS?.split(' ').filter(Boolean),
  );
  const kafka = new Kafka({
    clientId: 'airlock-bench-steady',
    brokers: infra.KAFKA_BROKERS.split(','),
    sasl: kafkaSasl(),
    logLevel: logLevel.NOTHING,
  });
  // As the ingress makes its producer (services/ingress-proxy/src/audit/audit.service.ts).
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let requests = 0;
  const send = producer.send.bind(producer);
  producer.send = (record) => {
    requests++;
    return send(record);
  };
  // The ingress's defaults (services/ingress-proxy/src/config.ts).
  const lingerMs = Number(process.env.AUDIT_LINGER_MS ?? 50);
  const minIntervalMs = Number(process.env.AUDIT_REQUEST_INTERVAL_MS ?? 5);
  const warmupSeconds = Number(process.env.BENCH_WARMUP_S ?? 30);
  const publisher = new AuditPublisher(producer, { timeoutMs: 3000, lingerMs, minIntervalMs });
  let running = true;
  let published = 0;
  let failed = 0;
  // How long each awaited event waited for its acknowledgement (ms), in the measured interval:
  // what an operation that must be on the stream before it runs waits for it.
  const acks: number[] = [];
  let measuring = false;
  const inFlight = new Set<Promise<unknown>>();
  try {
    await recorder.start();
    await producer.connect();
    const [rec] = childProcesses('services/recorder/src/main.js');
    if (rec === undefined) throw new Error('recorder process not found');
    const broker = brokerPid();
    const latency = async (): Promise<Latency> =>
      (await (await fetch(`${recorder.url}/audit/latency`)).json()) as Latency;

    // The broker's own background, before any load of ours, once the recorder has settled after
    // its start (group join, first fetches, compiling its checks).
    await sleep(5_000);
    const idleBefore = await idleRates(broker, rec);

    const sessions = Array.from({ length: 500 }, () => uuidv7());
    // Operations spread evenly: every millisecond, the operations due by then.
    const opsPerSecond = rate / 2;
    const start = performance.now();
    let started = 0;
    const load = (async () => {
      while (running) {
        const due = Math.floor(((performance.now() - start) / 1000) * opsPerSecond);
        for (; started < due; started++) {
          const session = sessions[started % sessions.length];
          const called = performance.now();
          const op = publisher
            .emit(draft(session))
            .then(() => {
              if (measuring) acks.push(performance.now() - called);
              published++;
              return publisher.emitLingering(draft(session));
            })
            .then(
              () => void published++,
              () => void failed++,
            );
          inFlight.add(op);
          void op.finally(() => inFlight.delete(op));
        }
        await sleep(1);
      }
    })();

    await sleep(warmupSeconds * 1000);
    const p0 = published;
    const r0 = requests;
    const l0 = await latency();
    const c0 = { rec: processCpuMs(rec), broker: processCpuMs(broker), pg: postgresCpuMs() };
    const t0 = performance.now();
    measuring = true;
    await sleep(seconds * 1000);
    measuring = false;
    const c1 = { rec: processCpuMs(rec), broker: processCpuMs(broker), pg: postgresCpuMs() };
    const t1 = performance.now();
    const p1 = published;
    const r1 = requests;
    running = false;
    await load;
    await Promise.allSettled([...inFlight]);
    // Let the last windows commit before the latency record is read (nothing is published now).
    for (let i = 0; i < 40; i++) {
      if ((await consumerLag(`${prefix}-recorder`, Topics.Audit)) === 0) break;
      await sleep(250);
    }
    await sleep(500);
    const l1 = await latency();
    // The broker's background varies by several % of a core from one 15 s to the next (its
    // controller's periodic work, compilation, collections): idle is sampled before and after the
    // load, and what the load added is counted above their mean.
    const idleAfter = await idleRates(broker, rec);
    const idleBrokerMsPerS = (idleBefore.broker + idleAfter.broker) / 2;
    const idleRecorderMsPerS = (idleBefore.recorder + idleAfter.recorder) / 2;
    const events = p1 - p0;
    const elapsed = (t1 - t0) / 1000;
    const { counts, beyond } = latencyBetween(l0, l1);
    // Events stored in the interval or just after it (publication in the warm-up may land early in it).
    const measured = [...counts.values()].reduce((a, b) => a + b, 0) + beyond;
    const us = (ms: number): number => (ms * 1000) / events;
    const [stored] = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_event');
    const lines = [
      '# Audit path at a steady rate: publisher → Kafka → recorder → PostgreSQL',
      '',
      `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); Kafka, PostgreSQL, the recorder and this publisher on the same machine.`,
      `Target ${rate} events/s (${opsPerSecond} operations/s, each one awaited event and one in the background), measured over ${elapsed.toFixed(1)} s after a ${warmupSeconds} s warm-up.`,
      `Publisher: linger ${lingerMs} ms for background events, at least ${minIntervalMs} ms between produce requests, one request in flight.`,
      `Recorder: AUDIT_BATCH_WINDOW_MS ${process.env.AUDIT_BATCH_WINDOW_MS ?? 'unset (its default)'}, RECORDER_PIPELINES ${process.env.RECORDER_PIPELINES ?? 'unset (its default, 1)'}.`,
      '',
      '| figure | value | goal |',
      '| --- | ---: | ---: |',
      `| events published (acknowledged) in the interval | ${events} (${(events / elapsed).toFixed(0)}/s) | |`,
      `| produce requests (events per request) | ${r1 - r0} (${(events / Math.max(1, r1 - r0)).toFixed(1)}) | |`,
      `| recorder CPU per event | **${us(c1.rec - c0.rec).toFixed(1)} µs** (${((c1.rec - c0.rec) / elapsed / 10).toFixed(1)} % of a core) | ≤ 40 µs |`,
      `| broker CPU per event | **${us(c1.broker - c0.broker).toFixed(1)} µs** (${((c1.broker - c0.broker) / elapsed / 10).toFixed(1)} % of a core) | ≤ 40 µs |`,
      `| broker CPU when idle, before / after the load (other clients of the shared broker) | ${(idleBefore.broker / 10).toFixed(1)} / ${(idleAfter.broker / 10).toFixed(1)} % of a core (mean: ${((idleBrokerMsPerS * 1000) / (events / elapsed)).toFixed(1)} µs per event at this rate) | |`,
      `| recorder CPU when idle, before / after the load | ${(idleBefore.recorder / 10).toFixed(1)} / ${(idleAfter.recorder / 10).toFixed(1)} % of a core | |`,
      `| above the mean idle rate of each (what the load added): recorder / broker, per event | ${us(c1.rec - c0.rec - idleRecorderMsPerS * elapsed).toFixed(1)} / ${us(c1.broker - c0.broker - idleBrokerMsPerS * elapsed).toFixed(1)} µs | |`,
      `| PostgreSQL CPU per event (all its processes) | ${us(c1.pg - c0.pg).toFixed(1)} µs | |`,
      `| publication → stored, p50 / p99 / max | ${percentileOfCounts(counts, measured, 0.5)} / **${percentileOfCounts(counts, measured, 0.99)}** / ${beyond > 0 ? `> ${l1.limitMs}` : Math.max(...counts.keys())} ms | p99 ≤ 500 ms |`,
      `| events in the latency record of the interval | ${measured} | |`,
      `| awaited event, call → broker acknowledgement, p50 / p99 / max | ${ackFigures(acks)} ms | |`,
      `| failed publications | ${failed} | 0 |`,
      `| events in the store at the end | ${stored.n} | |`,
      '',
      `Recorder ≤ 40 µs: **${us(c1.rec - c0.rec) <= 40 ? 'met' : 'missed'}**; broker ≤ 40 µs: **${us(c1.broker - c0.broker) <= 40 ? 'met' : 'missed'}**; p99 ≤ 500 ms: **${percentileOfCounts(counts, measured, 0.99) <= 500 ? 'met' : 'missed'}**.`,
      '',
    ];
    const metrics = await (await fetch(`${recorder.url}/metrics`)).text();
    const sizes = metrics.split('\n').filter((l) => l.startsWith('airlock_recorder_batch'));
    lines.push('Recorder metrics at the end (GET /metrics, windows):', '', '```', ...sizes, '```', '');
    process.stdout.write(`${lines.join('\n')}\n`);
    if (process.env.BENCH_NO_RESULT !== '1') {
      const out = join(repoRoot(), 'bench', 'results');
      mkdirSync(out, { recursive: true });
      // A run with settings other than the defaults is kept beside the default one, not over it.
      const settings = [
        process.env.AUDIT_REQUEST_INTERVAL_MS ? `-interval${process.env.AUDIT_REQUEST_INTERVAL_MS}` : '',
        process.env.AUDIT_LINGER_MS ? `-linger${process.env.AUDIT_LINGER_MS}` : '',
        process.env.AUDIT_BATCH_WINDOW_MS ? `-window${process.env.AUDIT_BATCH_WINDOW_MS}` : '',
        process.env.RECORDER_PIPELINES ? `-pipelines${process.env.RECORDER_PIPELINES}` : '',
      ].join('');
      writeFileSync(join(out, `audit-steady-${rate}${settings}.md`), lines.join('\n'));
    }
  } finally {
    running = false;
    await producer.disconnect().catch(() => undefined);
    await recorder.stop().catch(() => undefined);
    await idp.stop();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
