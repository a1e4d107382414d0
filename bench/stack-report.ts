/**
 * The report of bench/stack.sh: reads the records the script collected (one JSON object a line)
 * and prints bench/results/stack.md: throughput, latency, ratios against the peers, CPU µs per
 * operation of every process, and each target of issue 16 met or missed.
 *
 *   node dist/bench/stack-report.js .local/bench/stack/records.jsonl > bench/results/stack.md
 */
import { readFileSync } from 'node:fs';

interface Latency {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

interface CpuWindow {
  seconds: number;
  groups: Record<string, { ms: number; processes: number }>;
  allProcessesMs: number;
  machineBusyMs: number;
  machineCapacityMs: number;
}

interface Setup {
  kind: 'setup';
  commit: string;
  dirty: boolean;
  cpus: number;
  model: string;
  kernel: string;
  loadavg: string;
  date: string;
  nginx: string;
  wrk: string;
  pgbench: string;
  postgres: string;
  go: string;
  settings: {
    duration: number;
    warmup: number;
    httpRate: number;
    httpFixedConnections: number;
    connections: number;
    threads: number;
    proxyWorkers: number;
    pgRate: number;
    pgScale: number;
    ingressWorkers: string;
  };
}

interface HttpPreflight {
  kind: 'http-preflight';
  leg: HttpLeg;
  name: string;
  status: number;
  bytes: number;
  identical: boolean;
}

interface HttpFixed {
  kind: 'http-fixed';
  leg: HttpLeg;
  recorderLagAfter: number | null;
  result: {
    rate: number;
    connections: number;
    scheduled: number;
    completed: number;
    ok: number;
    non2xx: number;
    socketErrors: number;
    unsent: number;
    firstError?: string;
    completedInWindow: number;
    achievedRps: number;
    latencyMs: Latency | null;
    sendLagMs: Latency | null;
    cpu: CpuWindow;
  };
}

interface HttpSaturated {
  kind: 'http-saturated';
  leg: HttpLeg;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  cpu?: CpuWindow;
}

interface PgSaturated {
  kind: 'pg-saturated';
  target: PgTarget;
  mode: Mode;
  clients: number;
  tps: number;
  latencyMs: number;
  failed: number;
  exitCode: number;
  error?: string;
  cpu?: CpuWindow;
}

interface PgFixed {
  kind: 'pg-fixed';
  target: PgTarget;
  mode: Mode;
  clients: number;
  cpu: CpuWindow;
  window: {
    transactions: number;
    failed: number;
    perSecond: number;
    latencyMs: Latency | null;
    scheduleLagMs: Latency | null;
  } | null;
  exitCode: number;
  recorderLagAfter: number | null;
  error?: string;
}

interface PgChecks {
  kind: 'pg-checks';
  masked: string;
  refused: string;
}

type Rec =
  | Setup
  | HttpPreflight
  | HttpFixed
  | HttpSaturated
  | PgSaturated
  | PgFixed
  | PgChecks
  | { kind: 'pgbouncer'; version: string }
  | { kind: 'end'; loadavg: string };

const HTTP_LEGS = ['direct', 'nginx', 'node', 'airlock', 'airlock_masked'] as const;
type HttpLeg = (typeof HTTP_LEGS)[number];
const HTTP_LABEL: Record<HttpLeg, string> = {
  direct: 'direct (nginx upstream)',
  nginx: 'nginx reverse proxy',
  node: 'bare Node.js proxy (node:http + undici)',
  airlock: 'Airlock',
  airlock_masked: 'Airlock, masking on',
};
const PG_TARGETS = ['direct', 'pgbouncer', 'airlock'] as const;
type PgTarget = (typeof PG_TARGETS)[number];
const PG_LABEL: Record<PgTarget, string> = {
  direct: 'direct',
  pgbouncer: 'pgbouncer',
  airlock: 'Airlock (TLS, policy, masking)',
};
const MODES = ['simple', 'extended'] as const;
type Mode = (typeof MODES)[number];
const CLIENTS = [1, 8] as const;

/** The process whose CPU is the proxy's on each leg ('' where there is none). */
const HTTP_PROXY: Record<HttpLeg, string> = {
  direct: '',
  nginx: 'nginx-proxy',
  node: 'node-proxy',
  airlock: 'ingress-proxy',
  airlock_masked: 'ingress-proxy',
};
const PG_PROXY: Record<PgTarget, string> = { direct: '', pgbouncer: 'pgbouncer', airlock: 'ingress-proxy' };

/** "The whole system" of issue 16: what Airlock runs, with its infrastructure. */
const SYSTEM = [
  'ingress-proxy',
  'policy',
  'credential-vault',
  'approval',
  'recorder',
  'kafka',
  'postgres',
  'redis',
] as const;

type Verdict = 'met' | 'missed' | 'not measured';

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: stack-report <records.jsonl>');
  const recs = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Rec);
  const setup = recs.find((r): r is Setup => r.kind === 'setup');
  if (!setup) throw new Error(`${file}: no setup record`);
  const end = recs.find((r): r is { kind: 'end'; loadavg: string } => r.kind === 'end');
  const preflight = recs.filter((r): r is HttpPreflight => r.kind === 'http-preflight');
  const httpFixed = new Map(recs.filter((r): r is HttpFixed => r.kind === 'http-fixed').map((r) => [r.leg, r]));
  const httpSat = new Map(recs.filter((r): r is HttpSaturated => r.kind === 'http-saturated').map((r) => [r.leg, r]));
  const pgSat = recs.filter((r): r is PgSaturated => r.kind === 'pg-saturated');
  const pgFixed = recs.filter((r): r is PgFixed => r.kind === 'pg-fixed');
  const checks = recs.find((r): r is PgChecks => r.kind === 'pg-checks');
  const bouncer = recs.find((r): r is { kind: 'pgbouncer'; version: string } => r.kind === 'pgbouncer');
  const s = setup.settings;

  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines);
  p(
    '# Whole-stack benchmark (issue 16)',
    '',
    `Generated by \`bench/stack.sh\` on ${setup.date} against commit \`${setup.commit}\`${setup.dirty ? ' (with uncommitted changes in services/ or libs/)' : ''}. ` +
      'One run: the whole system up (`scripts/up.sh`, ' +
      `\`INGRESS_WORKERS=${s.ingressWorkers}\`, audit recorded through Kafka), the peers measured in the same run.`,
    '',
    `Machine: ${setup.cpus} CPUs (${setup.model}), Linux ${setup.kernel}. Everything — clients, peers, Airlock, Kafka, ` +
      'PostgreSQL, Redis — shares these CPUs, and so do the builds and tests of other work on the machine: load average ' +
      `${setup.loadavg} at the start, ${end?.loadavg ?? 'unknown'} at the end. The row "other processes" in the CPU tables ` +
      'is the CPU every other process on the machine used in the same window: the noise of that measurement.',
    '',
  );

  // --- targets --------------------------------------------------------------------------------
  const targets: string[][] = [];
  const verdict = (ok: boolean | undefined): Verdict => (ok === undefined ? 'not measured' : ok ? 'met' : 'missed');
  const withGoal = (ok: boolean | undefined, goal: boolean | undefined): string =>
    ok === undefined ? 'not measured' : ok ? (goal ? 'met (goal met too)' : 'met (goal not)') : '**missed**';
  const bold = (v: Verdict): string => (v === 'missed' ? '**missed**' : v);
  const a = httpSat.get('airlock');
  const n = httpSat.get('nginx');
  const am = httpSat.get('airlock_masked');
  const ratioAN = a && n ? a.rps / n.rps : undefined;
  targets.push([
    'HTTP: Airlock ≥ 0.25× the nginx reverse proxy’s req/s (goal 0.5×), saturated',
    ratioAN === undefined ? '–' : `${fx(ratioAN, 2)}× (${fi(a!.rps)} vs ${fi(n!.rps)} req/s)`,
    withGoal(ratioAN === undefined ? undefined : ratioAN >= 0.25, ratioAN === undefined ? undefined : ratioAN >= 0.5),
  ]);
  const af = httpFixed.get('airlock');
  const amf = httpFixed.get('airlock_masked');
  const nf = httpFixed.get('nginx');
  const ingressUs = af ? usPerOp(af.result.cpu, 'ingress-proxy', af.result.completedInWindow) : undefined;
  targets.push([
    `HTTP: ingress ≤ 120 µs of CPU per request (at ${fi(s.httpRate)} req/s)`,
    ingressUs === undefined ? '–' : `${fi(ingressUs)} µs`,
    bold(verdict(ingressUs === undefined ? undefined : ingressUs <= 120)),
  ]);
  const systemUs = af ? systemPerOp(af.result.cpu, af.result.completedInWindow) : undefined;
  targets.push([
    `HTTP: whole system ≤ 300 µs of CPU per request (at ${fi(s.httpRate)} req/s; ${SYSTEM.join(' + ')})`,
    systemUs === undefined ? '–' : `${fi(systemUs)} µs`,
    bold(verdict(systemUs === undefined ? undefined : systemUs <= 300)),
  ]);
  const maskRatio = a && am ? am.rps / a.rps : undefined;
  const maskedIngressUs = amf ? usPerOp(amf.result.cpu, 'ingress-proxy', amf.result.completedInWindow) : undefined;
  targets.push([
    'HTTP: masking on within 15 % of off (saturated req/s)',
    maskRatio === undefined
      ? '–'
      : `${fx(maskRatio, 2)}× (${fi(am!.rps)} vs ${fi(a!.rps)} req/s)` +
        (maskedIngressUs !== undefined && ingressUs !== undefined
          ? `; ingress CPU ${fi(maskedIngressUs)} vs ${fi(ingressUs)} µs/request (${fx(maskedIngressUs / ingressUs, 2)}×)`
          : ''),
    bold(verdict(maskRatio === undefined ? undefined : maskRatio >= 0.85)),
  ]);
  const p99Ratio =
    af?.result.latencyMs && nf?.result.latencyMs ? af.result.latencyMs.p99 / nf.result.latencyMs.p99 : undefined;
  targets.push([
    `HTTP: p99 at the same load (${fi(s.httpRate)} req/s) ≤ 3× the nginx proxy’s`,
    p99Ratio === undefined
      ? '–'
      : `${fx(p99Ratio, 1)}× (${fx(af!.result.latencyMs!.p99, 2)} vs ${fx(nf!.result.latencyMs!.p99, 2)} ms)`,
    bold(verdict(p99Ratio === undefined ? undefined : p99Ratio <= 3)),
  ]);
  const pgCell = (t: PgTarget, mode: Mode, c: number) =>
    pgSat.find((r) => r.target === t && r.mode === mode && r.clients === c && r.tps > 0);
  const pgFixedCell = (t: PgTarget, mode: Mode, c: number) =>
    pgFixed.find((r) => r.target === t && r.mode === mode && r.clients === c);
  for (const mode of MODES) {
    for (const c of CLIENTS) {
      const min = c === 1 ? 0.6 : 0.35;
      const al = pgCell('airlock', mode, c);
      const pb = pgCell('pgbouncer', mode, c);
      const r = al && pb ? al.tps / pb.tps : undefined;
      targets.push([
        `PostgreSQL: pgbench -S -M ${mode}, ${c} client${c > 1 ? 's' : ''}: ≥ ${min}× pgbouncer (goal 1.0×)`,
        r === undefined ? '–' : `${fx(r, 2)}× (${fi(al!.tps)} vs ${fi(pb!.tps)} TPS)`,
        withGoal(r === undefined ? undefined : r >= min, r === undefined ? undefined : r >= 1),
      ]);
    }
  }
  for (const mode of MODES) {
    for (const c of CLIENTS) {
      const f = pgFixedCell('airlock', mode, c);
      const us = f?.window ? usPerOp(f.cpu, 'ingress-proxy', f.window.transactions) : undefined;
      targets.push([
        `PostgreSQL: ingress ≤ 100 µs of CPU per statement (-M ${mode}, ${c} client${c > 1 ? 's' : ''}, ${fi(s.pgRate)}/s)`,
        us === undefined ? '–' : `${fi(us)} µs`,
        bold(verdict(us === undefined ? undefined : us <= 100)),
      ]);
    }
  }
  p(
    '## Targets',
    '',
    '| target | measured | verdict |',
    '| --- | --- | --- |',
    ...targets.map((t) => `| ${t.join(' | ')} |`),
    '',
  );

  // --- HTTP ---------------------------------------------------------------------------------
  if (httpSat.size || httpFixed.size) {
    const ds = httpSat.get('direct');
    p(
      '## HTTP',
      '',
      `### Saturated (wrk, closed loop, ${s.connections} connections, ${s.threads} thread(s), ${s.duration} s after ${s.warmup} s of warm-up)`,
      '',
      '| leg | req/s | p50 | p99 | errors | vs direct | vs nginx proxy | proxy CPU, cores | other processes, cores |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const leg of HTTP_LEGS) {
      const r = httpSat.get(leg);
      if (!r) {
        p(`| ${HTTP_LABEL[leg]} | not measured${preflightNote(preflight, leg)} | | | | | | | |`);
        continue;
      }
      const errors = r.non2xx + r.socketErrors;
      p(
        `| ${HTTP_LABEL[leg]} | ${fi(r.rps)} | ${fx(r.p50, 2)} ms | ${fx(r.p99, 2)} ms | ${errors ? `**${errors}** of ${fi(r.requests)}` : '0'} | ` +
          `${ds ? fx(r.rps / ds.rps, 2) + '×' : '–'} | ${n ? fx(r.rps / n.rps, 2) + '×' : '–'} | ` +
          `${cores(r.cpu, HTTP_PROXY[leg])} | ${cores(r.cpu)} |`,
      );
    }
    p(
      '',
      `### At a fixed offered load: ${fi(s.httpRate)} req/s on every leg`,
      '',
      `bench/loadgen, open loop: requests evenly spaced, ${s.httpFixedConnections} keep-alive connections, latency from each ` +
        `request's scheduled send time (a request waiting for a free connection counts its wait); ${s.duration} s measured ` +
        `after ${s.warmup} s at the same rate. "Send lag" is the time from the scheduled to the actual send: large when every ` +
        'connection was busy (the leg queued) or the client itself was short of CPU.',
      '',
      '| leg | achieved req/s | p50 | p90 | p99 | p99.9 | max | errors | send lag p99 | p99 vs nginx proxy |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const leg of HTTP_LEGS) {
      const r = httpFixed.get(leg)?.result;
      if (!r || !r.latencyMs) {
        p(`| ${HTTP_LABEL[leg]} | not measured${preflightNote(preflight, leg)} | | | | | | | | |`);
        continue;
      }
      const l = r.latencyMs;
      const errors = r.non2xx + r.socketErrors + r.unsent;
      const errCell = errors
        ? `**${errors}** (non-2xx ${r.non2xx}, socket ${r.socketErrors}, never sent ${r.unsent}; ${r.firstError ?? ''})`
        : '0';
      const sustained = r.achievedRps >= 0.97 * r.rate ? '' : ' ⚠ below the offered load';
      p(
        `| ${HTTP_LABEL[leg]} | ${fi(r.achievedRps)}${sustained} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.p999)} | ${ms(l.max)} | ` +
          `${errCell} | ${ms(r.sendLagMs?.p99)} | ${nf?.result.latencyMs ? fx(l.p99 / nf.result.latencyMs.p99, 1) + '×' : '–'} |`,
      );
    }
    const legs = HTTP_LEGS.filter((l) => httpFixed.has(l));
    p(
      '',
      `### CPU µs per request at ${fi(s.httpRate)} req/s`,
      '',
      'CPU time (user + system, from /proc, each process with its threads and child processes) spent in the measured ' +
        'window, divided by the requests completed in it. Kafka, PostgreSQL and Redis are the instances of infra/local ' +
        '(found by their listening ports), shared with whatever else uses them meanwhile. On the direct, nginx and Node.js legs ' +
        'the Airlock processes are idle: their figures there are their idle cost spread over the requests. "Other ' +
        'processes" is the CPU of every other process on the machine in the same window (counted the same way, plus ' +
        'children reaped in it): other work sharing the machine.',
      '',
    );
    p(
      ...cpuTable(
        legs.map((l) => ({
          label: HTTP_LABEL[l],
          cpu: httpFixed.get(l)!.result.cpu,
          ops: httpFixed.get(l)!.result.completedInWindow,
        })),
        ['nginx-upstream', 'nginx-proxy', 'node-proxy', 'loadgen'],
      ),
    );
    const lags = legs
      .filter((l) => l.startsWith('airlock'))
      .map((l) => `${HTTP_LABEL[l]}: ${httpFixed.get(l)!.recorderLagAfter ?? 'unknown'}`);
    if (lags.length) {
      p(
        '',
        `Recorder lag (audit events not yet stored) right after the window — 0 means it kept up: ${lags.join('; ')}.`,
      );
    }
    p(
      '',
      '### Preflight (one request per leg)',
      '',
      '| leg | HTTP status | body bytes | body identical to the payload |',
      '| --- | ---: | ---: | --- |',
      ...preflight.map((r) => `| ${HTTP_LABEL[r.leg]} | ${r.status} | ${r.bytes} | ${r.identical ? 'yes' : 'no'} |`),
      '',
    );
  }

  // --- PostgreSQL ----------------------------------------------------------------------------
  if (pgSat.length || pgFixed.length) {
    p(
      '## PostgreSQL',
      '',
      `pgbench -S (select-only), scale ${s.pgScale}, \`-n\`, one pgbench thread, on the demo database \`airlock_demo\` ` +
        'of the shared PostgreSQL (infra/local). Direct: plain TCP. pgbouncer: session pooling, SCRAM, plain TCP ' +
        `(${bouncer?.version ?? 'version unknown'}). Airlock: the ingress of \`scripts/up.sh\` on port 6543, TLS, the agent's ` +
        'token as password, connection `demo-db` (policy rule `agents-read-demo-db`: read allowed, masking ' +
        '`secrets, pii, column:public.customers.ssn` on), upstream credential from the vault, audit through Kafka.',
      '',
    );
    if (checks) {
      p(
        `Checks through Airlock before the runs: \`SELECT ssn FROM customers WHERE id = 1\` → \`${oneLine(checks.masked)}\`; ` +
          `\`DROP TABLE customers\` → \`${oneLine(checks.refused)}\`.`,
        '',
      );
    }
    p(
      `### Saturated (pgbench -T ${s.duration}, after a ${s.warmup} s warm-up per target and protocol)`,
      '',
      '| protocol | clients | target | TPS | latency avg | vs direct | vs pgbouncer | proxy CPU, cores | other processes, cores |',
      '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const mode of MODES) {
      for (const c of CLIENTS) {
        const d = pgCell('direct', mode, c);
        const b = pgCell('pgbouncer', mode, c);
        for (const t of PG_TARGETS) {
          const r = pgSat.find((x) => x.target === t && x.mode === mode && x.clients === c);
          if (!r || r.tps <= 0) {
            p(`| ${mode} | ${c} | ${PG_LABEL[t]} | failed: ${oneLine(r?.error ?? 'not run')} | | | | | |`);
            continue;
          }
          const failed = r.failed ? ` (${r.failed} failed)` : '';
          p(
            `| ${mode} | ${c} | ${PG_LABEL[t]} | ${fi(r.tps)}${failed} | ${fx(r.latencyMs, 3)} ms | ${d ? fx(r.tps / d.tps, 2) + '×' : '–'} | ` +
              `${t === 'direct' || !b ? '' : fx(r.tps / b.tps, 2) + '×'} | ${cores(r.cpu, PG_PROXY[t])} | ${cores(r.cpu)} |`,
          );
        }
      }
    }
    p(
      '',
      `### At a fixed rate: pgbench -R ${fi(s.pgRate)} on every target`,
      '',
      `Statements completed in the ${s.duration} s window (after ${s.warmup} s at the same rate), from pgbench's ` +
        'per-transaction log; latency from the scheduled start (pgbench -R schedules a Poisson process and counts the ' +
        'wait of a late transaction).',
      '',
      '| protocol | clients | target | achieved/s | p50 | p90 | p99 | max | failed | p99 vs pgbouncer |',
      '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const mode of MODES) {
      for (const c of CLIENTS) {
        const bl = pgFixedCell('pgbouncer', mode, c)?.window?.latencyMs;
        for (const t of PG_TARGETS) {
          const r = pgFixedCell(t, mode, c);
          const l = r?.window?.latencyMs;
          if (!r || !r.window || !l) {
            p(`| ${mode} | ${c} | ${PG_LABEL[t]} | failed: ${oneLine(r?.error ?? 'not run')} | | | | | | |`);
            continue;
          }
          const sustained = r.window.perSecond >= 0.97 * s.pgRate ? '' : ' ⚠ below the offered rate';
          p(
            `| ${mode} | ${c} | ${PG_LABEL[t]} | ${fi(r.window.perSecond)}${sustained} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ` +
              `${ms(l.max)} | ${r.window.failed} | ${t !== 'direct' && t !== 'pgbouncer' && bl ? fx(l.p99 / bl.p99, 1) + '×' : ''} |`,
          );
        }
      }
    }
    for (const mode of MODES) {
      for (const c of CLIENTS) {
        const cols = PG_TARGETS.flatMap((t) => {
          const r = pgFixedCell(t, mode, c);
          return r?.window ? [{ label: PG_LABEL[t], cpu: r.cpu, ops: r.window.transactions }] : [];
        });
        if (!cols.length) continue;
        p('', `### CPU µs per statement: -M ${mode}, ${c} client${c > 1 ? 's' : ''}, ${fi(s.pgRate)}/s`, '');
        p(...cpuTable(cols, ['pgbouncer', 'pgbench']));
        const lag = pgFixedCell('airlock', mode, c)?.recorderLagAfter;
        if (lag !== undefined) p('', `Recorder lag right after Airlock's window: ${lag ?? 'unknown'}.`);
      }
    }
    p(
      '',
      'On the PostgreSQL legs "postgres" includes the backends that run the statements themselves, so the whole-system ' +
        'row there is Airlock plus the database work any path pays.',
      '',
    );
  }

  p(
    '## Setup',
    '',
    `- ${setup.nginx} (upstream: 1 worker; reverse proxy: ${s.proxyWorkers} worker(s), keep-alive pool to the upstream), ` +
      `${setup.wrk}, bench/loadgen (${setup.go}), PostgreSQL ${setup.postgres}, ${setup.pgbench}.`,
    '- HTTP payload: `bench/http/item.json`, the same on every leg; Airlock connections `bench` and `bench-masked` ' +
      '(config/connections.yaml) forward to the nginx upstream; `bench-masked` has masking with every secret detector on.',
    '- CPU per process: `bench/loadgen` reads utime + stime of every process in /proc at the start and end of the ' +
      'window (10 ms ticks); a group is a root process and its descendants. The busy time /proc/stat reports for the ' +
      'machine is kept in the raw records but not used: on this kernel it came out below the sum of the processes.',
    '- Raw records: `.local/bench/stack/records.jsonl`; wrk and pgbench output beside them.',
    '',
  );
  process.stdout.write(out.join('\n'));
}

function cpuTable(cols: { label: string; cpu: CpuWindow; ops: number }[], extra: string[]): string[] {
  const rows: string[] = [
    `| process | ${cols.map((c) => c.label).join(' | ')} |`,
    `| --- |${cols.map(() => ' ---: |').join('')}`,
  ];
  const cell = (c: { cpu: CpuWindow; ops: number }, name: string) => fi(usPerOp(c.cpu, name, c.ops));
  for (const name of SYSTEM) rows.push(`| ${name} | ${cols.map((c) => cell(c, name)).join(' | ')} |`);
  rows.push(`| **whole system** | ${cols.map((c) => `**${fi(systemPerOp(c.cpu, c.ops))}**`).join(' | ')} |`);
  for (const name of extra) rows.push(`| ${name} | ${cols.map((c) => cell(c, name)).join(' | ')} |`);
  rows.push(
    `| other processes | ${cols
      .map((c) => {
        const listed = Object.values(c.cpu.groups).reduce((sum, g) => sum + g.ms, 0);
        return fi(((c.cpu.allProcessesMs - listed) * 1000) / c.ops);
      })
      .join(' | ')} |`,
    `| all processes, cores | ${cols.map((c) => fx(c.cpu.allProcessesMs / 1000 / c.cpu.seconds, 2)).join(' | ')} |`,
    `| operations in the window | ${cols.map((c) => fi(c.ops)).join(' | ')} |`,
  );
  return rows;
}

/** Cores a group kept busy over a window; without a group, the machine's CPU outside every listed group. */
function cores(cpu: CpuWindow | undefined, group?: string): string {
  if (!cpu) return '–';
  if (group === '') return '';
  const listed = Object.values(cpu.groups).reduce((sum, g) => sum + g.ms, 0);
  const used = group === undefined ? cpu.allProcessesMs - listed : (cpu.groups[group]?.ms ?? NaN);
  return fx(used / 1000 / cpu.seconds, 2);
}

function usPerOp(cpu: CpuWindow, name: string, ops: number): number | undefined {
  const g = cpu.groups[name];
  return g && ops > 0 ? (g.ms * 1000) / ops : undefined;
}

function systemPerOp(cpu: CpuWindow, ops: number): number | undefined {
  if (ops <= 0) return undefined;
  return (SYSTEM.reduce((sum, name) => sum + (cpu.groups[name]?.ms ?? 0), 0) * 1000) / ops;
}

function preflightNote(preflight: HttpPreflight[], leg: HttpLeg): string {
  const r = preflight.find((x) => x.leg === leg);
  return r && r.status !== 200 ? ` (preflight answered HTTP ${r.status})` : '';
}

const oneLine = (s: string): string => s.trim().split('\n')[0].replace(/\|/g, '\\|').slice(0, 200);
const fi = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US');
const fx = (n: number | undefined, digits: number): string =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
const ms = (n: number | undefined): string => (n === undefined ? '–' : `${n.toFixed(2)} ms`);

main();
