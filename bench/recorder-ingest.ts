/**
 * Audit ingest: how fast the recorder moves `airlock.audit` into PostgreSQL with hash chaining,
 * batching and the append-only table, on the local broker and database.
 *
 * A backlog of N events (synthetic `operation.completed`, as the ingress emits them, ~560 bytes)
 * is written to the topic while the recorder is stopped; the recorder is then started and timed
 * until every event is stored and its consumer lag is 0. The rate and the CPU per event are
 * counted from the last sample before the recorder received its first message to the last event
 * stored, so start-up and group join are left out (they are reported apart) and the receipt of
 * the events waiting when the first window commits is in.
 *
 *   node dist/bench/recorder-ingest.js [events=500000]
 *
 * RECORDERS=2 runs two recorder processes in one consumer group; RECORDER_PIPELINES=2 gives each
 * recorder two audit pipelines (services/recorder/src/config.ts).
 * RECORDER_NODE_ARGS are node flags for the recorder, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 * BENCH_NO_RESULT=1 prints the figures without writing them to bench/results (a profiling run).
 *
 * Needs the local infrastructure (infra/local/start.sh) and a build (npm run build).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Topics, uuidv7 } from '@airlock/contracts';
import {
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  consumerLag,
  freePort,
  infraEnv,
  repoRoot,
  runId,
  syntheticAuditEvent,
  kafkaSasl,
} from '@airlock/testing';
import { childProcesses, processCpuMs } from './proc-cpu';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An exact count, once at the end: counting a growing table while it is written would load the database being measured. */
async function stored(db: TestDatabase, sessions: string[]): Promise<{ all: number; ours: number }> {
  const [r] = await db.query<{ all: string; ours: string }>(
    'SELECT count(*) AS all, count(*) FILTER (WHERE session_id = ANY($1::uuid[])) AS ours FROM audit_event',
    [sessions],
  );
  return { all: Number(r.all), ours: Number(r.ours) };
}

function pidsOf(args: string[]): number[] {
  try {
    return execFileSync('pgrep', args, { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU so far of the recorders, PostgreSQL (all its processes) and the Kafka broker. */
function cpuNow(recorders: number[]): { recorder: number; postgres: number; broker: number } {
  const sum = (pids: number[]): number => pids.reduce((n, p) => n + processCpuMs(p), 0);
  return {
    recorder: sum(recorders),
    postgres: sum(pidsOf(['-x', 'postgres'])),
    broker: sum(pidsOf(['-f', 'kafka\\.Kafka'])),
  };
}

async function statsOf(recorders: ServiceProcess[]): Promise<Record<string, number>> {
  const sum: Record<string, number> = {};
  for (const r of recorders) {
    const stats = (await (await fetch(`${r.url}/audit/stats`)).json()) as Record<string, number>;
    for (const [k, v] of Object.entries(stats)) sum[k] = (sum[k] ?? 0) + v;
  }
  return sum;
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 500_000);
  const infra = infraEnv();
  const prefix = `bench-${runId()}`;
  const idp = await TestIdentityProvider.start();
  const db = await TestDatabase.create('airlock_bench_ingest');
  const workDir = mkdtempSync(join(tmpdir(), 'airlock-bench-ingest-'));
  const pipelines = Number(process.env.RECORDER_PIPELINES ?? 1);
  const env = {
    ...db.standaloneRecorderEnv(workDir, prefix, idp),
    LOG_LEVEL: 'warn',
    RECORDER_PIPELINES: String(pipelines),
  };
  const nodeArgs = process.env.RECORDER_NODE_ARGS?.split(' ').filter(Boolean);
  // RECORDERS=2: two recorder processes in one consumer group share the partitions (and chains).
  const recorders: ServiceProcess[] = [];
  for (let i = 0; i < Math.max(1, Number(process.env.RECORDERS ?? 1)); i++) {
    recorders.push(new ServiceProcess('recorder', await freePort(), env, nodeArgs));
  }
  const [recorder] = recorders;
  const kafka = new Kafka({
    clientId: 'airlock-bench-ingest',
    brokers: infra.KAFKA_BROKERS.split(','),
    sasl: kafkaSasl(),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  try {
    // First start: migrates, and pins the group's position at the end of the stream.
    await recorder.start();
    await recorder.stop();

    await producer.connect();
    const sessions = Array.from({ length: 2000 }, () => uuidv7());
    const produceStart = performance.now();
    const chunk = 5000;
    let bytes = 0;
    for (let sent = 0; sent < total; sent += chunk) {
      const messages = Array.from({ length: Math.min(chunk, total - sent) }, (_, i) => {
        const e = syntheticAuditEvent(sessions[(sent + i) % sessions.length]);
        const value = JSON.stringify(e);
        bytes += value.length;
        return { key: e.sessionId, value };
      });
      await producer.send({ topic: Topics.Audit, acks: -1, messages });
    }
    const produceSeconds = (performance.now() - produceStart) / 1000;
    process.stdout.write(
      `backlog: ${total} events (${(bytes / total).toFixed(0)} bytes each) in ${produceSeconds.toFixed(1)} s\n`,
    );

    const bootStart = performance.now();
    await Promise.all(recorders.map((r) => r.start()));
    const bootSeconds = (performance.now() - bootStart) / 1000;
    const recorderProcs = childProcesses('services/recorder/src/main.js');
    // The last sample before the recorders received anything (at first, the end of their start):
    // where the count starts.
    let start = { t: performance.now(), n: 0, cpu: cpuNow(recorderProcs) };
    let receiving = false;
    const samples: { t: number; n: number }[] = [];
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
      // Progress from the recorders' own counters of received and committed events (cheap to read).
      const { stored: n, received } = await statsOf(recorders);
      const t = performance.now();
      // Until receipt begins, each sample moves the start; then it stays.
      if (received > 0) receiving = true;
      else if (!receiving) start = { t, n, cpu: cpuNow(recorderProcs) };
      samples.push({ t, n });
      // The topic is shared: other clients' events may be stored too, so the end is a lag of 0.
      if (n >= total && (await consumerLag(`${prefix}-recorder`, Topics.Audit)) === 0) break;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${total} events stored after 30 minutes`);
      await sleep(250);
    }
    const cpuLast = cpuNow(recorderProcs);
    const counted = await stored(db, sessions);
    const exact = counted.ours;
    if (exact !== total) throw new Error(`the store holds ${exact} of this run's events, ${total} were sent`);
    // Events other clients of the shared topic published meanwhile, stored (and timed) with ours.
    const foreign = counted.all - counted.ours;
    const last = samples[samples.length - 1];
    const seconds = (last.t - start.t) / 1000;
    const rate = (total - start.n) / Math.max(seconds, 0.001);
    // The best 5-second window: the steady rate once the batches are full.
    let peak = 0;
    for (let i = 0, j = 0; i < samples.length; i++) {
      while (samples[i].t - samples[j].t > 5000) j++;
      const dt = (samples[i].t - samples[j].t) / 1000;
      if (dt >= 4) peak = Math.max(peak, (samples[i].n - samples[j].n) / dt);
    }
    let lag: number | undefined;
    for (let i = 0; i < 40; i++) {
      lag = await consumerLag(`${prefix}-recorder`, Topics.Audit);
      if (lag === 0) break;
      await sleep(250);
    }
    const auditor = await idp.sign({ sub: 'bench', groups: ['airlock-auditors'] });
    const verifyStart = performance.now();
    const verify = (await (
      await fetch(`${recorder.url}/audit/verify`, { headers: { authorization: `Bearer ${auditor}` } })
    ).json()) as { ok: boolean; chains: { verified: number }[] };
    const verifySeconds = (performance.now() - verifyStart) / 1000;
    const verified = verify.chains.reduce((n, c) => n + c.verified, 0);

    const stats = await statsOf(recorders);
    // Windows (one transaction and one offset commit each), from the recorders' Prometheus counters.
    let windows = 0;
    for (const r of recorders) {
      const text = await (await fetch(`${r.url}/metrics`)).text();
      windows += Number(/^airlock_recorder_batches_total(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1] ?? 0);
    }
    const perPipeline: Record<string, number>[] = [];
    for (const r of recorders) {
      perPipeline.push(...((await (await fetch(`${r.url}/audit/pipelines`)).json()) as Record<string, number>[]));
    }
    const perEvent = (k: 'recorder' | 'postgres' | 'broker'): string =>
      (((cpuLast[k] - start.cpu[k]) * 1000) / Math.max(1, total - start.n)).toFixed(1);
    const lines = [
      '# Recorder ingest: airlock.audit → PostgreSQL, chained and batched',
      '',
      `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); Kafka, PostgreSQL and the recorder on the same machine.`,
      `Recorder processes: ${recorders.length}, each with ${pipelines} audit pipeline${pipelines > 1 ? 's' : ''} (RECORDER_PIPELINES).`,
      `Backlog of ${total} events (~${(bytes / total).toFixed(0)} bytes each, 6 partitions = 6 chains), written while the recorder was stopped.`,
      '',
      '| figure | value |',
      '| --- | ---: |',
      `| ingest rate, from the last sample before the first message received to the last event stored | **${Math.round(rate).toLocaleString('en-US')} events/s** |`,
      `| best 5-second window | ${Math.round(peak).toLocaleString('en-US')} events/s |`,
      `| time to store the backlog | ${seconds.toFixed(1)} s |`,
      `| recorder start (migrations, group join) | ${bootSeconds.toFixed(1)} s |`,
      `| consumer lag at the end | ${lag ?? 'unknown'} |`,
      `| events of this run in the store (exact count) | ${exact} |`,
      `| other clients' events on the shared topic, stored with them (their cost is in the CPU figures, not counted in the rate) | ${foreign} |`,
      `| verify (all chains, ${verified} links) | ${verifySeconds.toFixed(1)} s, ok: ${verify.ok} |`,
      `| fetched batches (events per batch) | ${stats.batches} (${Math.round(stats.received / Math.max(1, stats.batches))}) |`,
      `| stored windows (events per window; one transaction each, two side by side from 2,000 events) | ${windows} (${Math.round(stats.received / Math.max(1, windows))}) |`,
      `| CPU per event stored, over the same interval: recorder${recorders.length > 1 ? 's' : ''} / PostgreSQL (all processes) / broker | ${perEvent('recorder')} / ${perEvent('postgres')} / ${perEvent('broker')} µs |`,
      `| recorder time: check and canonicalise / chain and store / commit offsets | ${(stats.decodeMs / 1000).toFixed(1)} s / ${(stats.storeMs / 1000).toFixed(1)} s / ${(stats.commitMs / 1000).toFixed(1)} s |`,
      `| chains linked ahead of their transaction / linked again under the lock (head moved) | ${stats.linkedAhead ?? 0} / ${stats.linkedAgain ?? 0} |`,
      `| events stored / received again (stored before) per pipeline, each recorder's in turn | ${perPipeline.map((p) => `${p.stored} / ${p.redelivered}`).join(', ')} |`,
      '',
      `Goal: ≥ 50,000 events/s: **${rate >= 50_000 ? 'met' : 'missed'}**.`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (process.env.BENCH_NO_RESULT !== '1') {
      const out = join(repoRoot(), 'bench', 'results');
      mkdirSync(out, { recursive: true });
      writeFileSync(
        join(
          out,
          [
            'recorder-ingest',
            recorders.length > 1 ? `-${recorders.length}-recorders` : '',
            pipelines > 1 ? `-${pipelines}-pipelines` : '',
            '.md',
          ].join(''),
        ),
        lines.join('\n'),
      );
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
    await Promise.all(recorders.map((r) => r.stop().catch(() => undefined)));
    await idp.stop();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
