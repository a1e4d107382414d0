/**
 * CPU time per group of processes over time, read from /proc (Linux), so that a benchmark can
 * charge each process the CPU it used during one phase of a load.
 *
 *   node dist/bench/proc-cpu.js record <out.jsonl> <interval ms> <name>=<spec>...
 *
 * A spec is `pid:<n>` (that process), `tree:<n>` (it and its descendants) or `children:<n>` (its
 * descendants only). Every interval one line is appended: the time (ms since the epoch), each
 * group's cumulative CPU (user + system, ms) since the sampler started watching it, the whole
 * machine's busy time and the sampler's own CPU. A process that ends keeps its last reading, so
 * a group's figure never goes down. Stops on SIGTERM or SIGINT.
 *
 * `cpuBetween(samples, t0, t1)` (used by the benchmark's report) interpolates between samples.
 */
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';

/** Linux reports CPU time in clock ticks of 1/100 s on every architecture Node runs on. */
const TICK_MS = 10;

export interface CpuSample {
  t: number;
  /** Cumulative ms per group, plus `machine` (busy time of all cores) and `sampler`. */
  cpu: Record<string, number>;
}

interface Group {
  name: string;
  kind: 'pid' | 'tree' | 'children';
  root: number;
  /** Last reading of every process ever seen in the group, in ticks. */
  seen: Map<number, number>;
}

function readStat(pid: number): { ppid: number; ticks: number; exitedChildrenTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
    exitedChildrenTicks: Number(fields[13]) + Number(fields[14]),
  };
}

/** CPU milliseconds (user + system, all threads) a process has used so far; 0 once it is gone. */
export function processCpuMs(pid: number): number {
  return (readStat(pid)?.ticks ?? 0) * TICK_MS;
}

/**
 * CPU milliseconds of a process's children that have ended and been waited for (e.g. the
 * backends a database server has closed): what a sum over the live processes no longer shows.
 */
export function exitedChildrenCpuMs(pid: number): number {
  return (readStat(pid)?.exitedChildrenTicks ?? 0) * TICK_MS;
}

/** The children of this process whose command line contains `marker` (a service's entry point). */
export function childProcesses(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (readStat(pid)?.ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) {
        pids.push(pid);
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function parentsOfAll(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  return children;
}

function descendants(root: number, children: Map<number, number[]>): number[] {
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}

function parseGroup(arg: string): Group {
  const m = /^([\w-]+)=(pid|tree|children):(\d+)$/.exec(arg);
  if (!m) throw new Error(`bad group ${arg}: expected <name>=pid|tree|children:<pid>`);
  return { name: m[1], kind: m[2] as Group['kind'], root: Number(m[3]), seen: new Map() };
}

function record(out: string, intervalMs: number, groups: Group[]): void {
  const rescanEvery = Math.max(1, Math.round(1000 / intervalMs));
  let members = new Map<Group, number[]>();
  let tick = 0;
  const rescan = (): void => {
    const needTree = groups.some((g) => g.kind !== 'pid');
    const children = needTree ? parentsOfAll() : new Map<number, number[]>();
    members = new Map(
      groups.map((g) => {
        if (g.kind === 'pid') return [g, [g.root]];
        const below = descendants(g.root, children);
        return [g, g.kind === 'tree' ? [g.root, ...below] : below];
      }),
    );
  };
  writeFileSync(out, '');
  const sample = (): void => {
    if (tick++ % rescanEvery === 0) rescan();
    const cpu: Record<string, number> = {};
    for (const g of groups) {
      for (const pid of members.get(g) ?? []) {
        const stat = readStat(pid);
        if (stat) g.seen.set(pid, stat.ticks);
      }
      let ticks = 0;
      for (const v of g.seen.values()) ticks += v;
      cpu[g.name] = ticks * TICK_MS;
    }
    const self = process.cpuUsage();
    cpu.machine = machineBusyMs();
    cpu.sampler = (self.user + self.system) / 1000;
    appendFileSync(out, `${JSON.stringify({ t: Date.now(), cpu })}\n`);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  const stop = (): void => {
    clearInterval(timer);
    sample();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

export function readSamples(file: string): CpuSample[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CpuSample);
}

function valueAt(samples: CpuSample[], key: string, t: number): number {
  const v = (s: CpuSample): number => s.cpu[key] ?? 0;
  if (t <= samples[0].t) return v(samples[0]);
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (t <= b.t) return v(a) + ((v(b) - v(a)) * (t - a.t)) / Math.max(1, b.t - a.t);
  }
  return v(samples[samples.length - 1]);
}

/** CPU ms each group used between t0 and t1 (ms since the epoch), interpolated between samples. */
export function cpuBetween(samples: CpuSample[], t0: number, t1: number): Record<string, number> {
  if (samples.length === 0) throw new Error('no CPU samples');
  if (t0 < samples[0].t || t1 > samples[samples.length - 1].t) {
    throw new Error(`window ${t0}..${t1} is not inside the samples ${samples[0].t}..${samples[samples.length - 1].t}`);
  }
  const out: Record<string, number> = {};
  for (const key of Object.keys(samples[samples.length - 1].cpu)) {
    out[key] = valueAt(samples, key, t1) - valueAt(samples, key, t0);
  }
  return out;
}

if (require.main === module) {
  const [mode, out, interval, ...specs] = process.argv.slice(2);
  if (mode !== 'record' || !out || !Number(interval) || specs.length === 0) {
    process.stderr.write('usage: proc-cpu record <out.jsonl> <interval ms> <name>=pid|tree|children:<pid>...\n');
    process.exit(2);
  }
  record(out, Number(interval), specs.map(parseGroup));
}
