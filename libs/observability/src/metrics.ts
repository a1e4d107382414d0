import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  labelNames?: readonly L[];
}

/**
 * A series is made once per process: several instances of a class (the request/reply client of
 * a test, a second publisher) share it rather than failing on a second registration.
 */
function once<M>(name: string, make: () => M): M {
  return (metricsRegistry.getSingleMetric(name) as M | undefined) ?? make();
}

export function counter<L extends string = never>(o: SeriesOptions<L>): Counter<L> {
  return once(o.name, () => new Counter<L>({ ...o, labelNames: o.labelNames ?? [], registers: [metricsRegistry] }));
}

export function gauge<L extends string = never>(
  o: SeriesOptions<L> & { collect?: (this: Gauge<L>) => void | Promise<void> },
): Gauge<L> {
  return once(o.name, () => new Gauge<L>({ ...o, labelNames: o.labelNames ?? [], registers: [metricsRegistry] }));
}

export function histogram<L extends string = never>(o: SeriesOptions<L> & { buckets?: number[] }): Histogram<L> {
  return once(
    o.name,
    () =>
      new Histogram<L>({
        ...o,
        labelNames: o.labelNames ?? [],
        buckets: o.buckets ?? LATENCY_BUCKETS,
        registers: [metricsRegistry],
      }),
  );
}

/**
 * Label children bound once per label set: prom-client's `labels()` builds a key string on every
 * call, which a data path that counts every request should not pay. Label values are looked up
 * through nested maps, so a known set costs a few map reads and no allocation.
 */
export class BoundLabels<C> {
  private readonly root = new Map<string, unknown>();

  constructor(
    private readonly bind: (values: string[]) => C,
    private readonly depth: number,
  ) {}

  get(...values: string[]): C {
    let level = this.root;
    for (let i = 0; i < this.depth - 1; i++) {
      let next = level.get(values[i]) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(values[i], next);
      }
      level = next;
    }
    const last = values[this.depth - 1];
    let child = level.get(last) as C | undefined;
    if (child === undefined) {
      child = this.bind(values);
      level.set(last, child);
    }
    return child;
  }
}

/** Counter children by label values, bound once per set. */
export function boundCounter<L extends string>(c: Counter<L>, labelNames: readonly L[]) {
  return new BoundLabels((values) => c.labels(...values), labelNames.length);
}

/** Histogram children by label values, bound once per set. */
export function boundHistogram<L extends string>(h: Histogram<L>, labelNames: readonly L[]) {
  return new BoundLabels((values) => h.labels(...values), labelNames.length);
}
