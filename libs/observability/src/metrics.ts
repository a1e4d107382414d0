import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's one metrics registry: every series of a service, the shared libraries' included,
 * is registered here and served by GET /metrics. Names start with `airlock_`; label values come
 * only from bounded sets (protocol, connection name, decision, outcome, rule id, topic, state),
 * never from a token, a statement or a path.
 */
export const metricsRegistry = new Registry();

let processMetricsStarted = false;

/** Names every series of this process by its service and adds the process and Node.js metrics. */
export function startProcessMetrics(service: string): void {
  if (processMetricsStarted) return;
  processMetricsStarted = true;
  metricsRegistry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'airlock_' });
}

/** Latency buckets (seconds) shared by the request histograms: 0.5 ms to 30 s. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface SeriesOptions<L extends string> {
  name: string;
  help: string;
  /** At most four: children are looked up by fixed arguments, never by an array. */
  labelNames?: readonly L[];
}

type Labels = Record<string, string>;
interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}

/**
 * A series as prom-client's registry reads it (`get()` at scrape time). The children are plain
 * objects found through nested maps keyed by label value: counting on a data path is a few map
 * reads and an addition, with no key string built and nothing allocated once a label set has
 * been seen (prom-client's own `labels(...).inc()` hashes the label set on every call).
 */
abstract class Series<C, L extends string> {
  readonly aggregator = 'sum';
  private readonly root = new Map<string, unknown>();
  protected readonly children: { labels: Labels; child: C }[] = [];
  private readonly depth: number;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    readonly labelNames: readonly L[],
  ) {
    if (labelNames.length > 4) throw new Error(`${name}: at most four labels`);
    this.depth = labelNames.length;
    metricsRegistry.registerMetric(this as never);
  }

  protected abstract make(): C;

  /** The child of a label set (values in the order of `labelNames`), made on first use. */
  labels(a = '', b = '', c = '', d = ''): C {
    let level = this.root;
    const depth = this.depth;
    if (depth === 0) return this.leaf(level, '', [a, b, c, d]);
    if (depth > 1) level = this.level(level, a);
    if (depth > 2) level = this.level(level, b);
    if (depth > 3) level = this.level(level, c);
    return this.leaf(level, depth === 1 ? a : depth === 2 ? b : depth === 3 ? c : d, [a, b, c, d]);
  }

  private level(at: Map<string, unknown>, key: string): Map<string, unknown> {
    let next = at.get(key) as Map<string, unknown> | undefined;
    if (next === undefined) {
      next = new Map();
      at.set(key, next);
    }
    return next;
  }

  private leaf(at: Map<string, unknown>, key: string, values: string[]): C {
    let child = at.get(key) as C | undefined;
    if (child === undefined) {
      child = this.make();
      at.set(key, child);
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]));
      this.children.push({ labels, child });
    }
    return child;
  }

  protected abstract samples(): Sample[];

  /** What the registry formats at scrape time. */
  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.samples(), aggregator: this.aggregator };
  }
}

export class CounterChild {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export class Counter<L extends string = never> extends Series<CounterChild, L> {
  constructor(o: SeriesOptions<L>) {
    super(o.name, o.help, 'counter', o.labelNames ?? []);
  }
  protected make(): CounterChild {
    return new CounterChild();
  }
  /** The series without labels. */
  inc(n = 1): void {
    this.labels().inc(n);
  }
  protected samples(): Sample[] {
    if (this.labelNames.length === 0 && this.children.length === 0) return [{ labels: {}, value: 0 }];
    return this.children.map(({ labels, child }) => ({ labels, value: child.value }));
  }
}

export class GaugeChild {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
  set(v: number): void {
    this.value = v;
  }
}

export class LiveGauge<L extends string = never> extends Series<GaugeChild, L> {
  constructor(o: SeriesOptions<L>) {
    super(o.name, o.help, 'gauge', o.labelNames ?? []);
  }
  protected make(): GaugeChild {
    return new GaugeChild();
  }
  inc(n = 1): void {
    this.labels().inc(n);
  }
  dec(n = 1): void {
    this.labels().dec(n);
  }
  protected samples(): Sample[] {
    if (this.labelNames.length === 0 && this.children.length === 0) return [{ labels: {}, value: 0 }];
    return this.children.map(({ labels, child }) => ({ labels, value: child.value }));
  }
}

export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (v <= bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

export class Histogram<L extends string = never> extends Series<HistogramChild, L> {
  readonly buckets: readonly number[];
  constructor(o: SeriesOptions<L> & { buckets?: number[] }) {
    super(o.name, o.help, 'histogram', o.labelNames ?? []);
    this.buckets = o.buckets ?? LATENCY_BUCKETS;
  }
  protected make(): HistogramChild {
    return new HistogramChild(this.buckets);
  }
  observe(v: number): void {
    this.labels().observe(v);
  }
  protected samples(): Sample[] {
    const out: Sample[] = [];
    for (const { labels, child } of this.children) {
      let cumulative = 0;
      child.bounds.forEach((b, i) => {
        cumulative += child.counts[i];
        out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: String(b) }, value: cumulative });
      });
      out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: child.count });
      out.push({ metricName: `${this.name}_sum`, labels, value: child.sum });
      out.push({ metricName: `${this.name}_count`, labels, value: child.count });
    }
    return out;
  }
}

/**
 * A series is made once per process: several instances of a class (the request/reply client of
 * a test, a second publisher) share it rather than failing on a second registration.
 */
function once<M>(name: string, make: () => M): M {
  return (metricsRegistry.getSingleMetric(name) as M | undefined) ?? make();
}

export function counter<L extends string = never>(o: SeriesOptions<L>): Counter<L> {
  return once(o.name, () => new Counter<L>(o));
}

export function gauge<L extends string = never>(o: SeriesOptions<L>): LiveGauge<L> {
  return once(o.name, () => new LiveGauge<L>(o));
}

export function histogram<L extends string = never>(o: SeriesOptions<L> & { buckets?: number[] }): Histogram<L> {
  return once(o.name, () => new Histogram<L>(o));
}

/** A gauge whose value is read when scraped (prom-client's, with `collect`). */
export function collectedGauge<L extends string = never>(
  o: SeriesOptions<L> & { collect: (this: Gauge<L>) => void | Promise<void> },
): Gauge<L> {
  return once(o.name, () => new Gauge<L>({ ...o, labelNames: o.labelNames ?? [], registers: [metricsRegistry] }));
}
