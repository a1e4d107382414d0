import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { uuidV7Millis } from '../integrity/partition-day';

/** Upper bounds (seconds) of the latency histogram, and (events) of the window-size histogram. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SIZE_BUCKETS = [1, 10, 100, 1_000, 10_000, 100_000];
/** The exact latency record keeps one counter per millisecond up to this; later is counted apart. */
const EXACT_MS = 60_000;

interface WindowResult {
  stored: number;
  deadLettered: number;
  redelivered: number;
  duplicates: number;
}

/**
 * The recorder's ingest figures, served with every other series of the process by GET /metrics:
 * events stored, windows (one transaction each) and their sizes, events dead-lettered, consumer
 * lag per partition, and the latency from an event's publication (the time its UUIDv7 id
 * carries, set when the publisher built it) to the commit of its row. No event content, no
 * labels but the partition. The service registers them on the process's registry; a test gives
 * each instance a registry of its own.
 */
export class RecorderMetrics {
  private readonly stored: Counter;
  private readonly redelivered: Counter;
  private readonly duplicates: Counter;
  private readonly deadLettered: Counter;
  private readonly windows: Counter;
  private readonly failures: Counter;
  private readonly sizes: Histogram;
  private readonly latency: Histogram;
  /** Events per millisecond of latency (index = ms), for exact percentiles over an interval. */
  private readonly exact = new Uint32Array(EXACT_MS);
  private beyondExact = 0;
  /** Per partition: the broker's high watermark last seen, and the next offset to store. */
  private readonly highWatermarks = new Map<number, bigint>();
  private readonly positions = new Map<number, bigint>();

  /** The clock commits are timed with (a test sets its own). */
  clock: () => number = Date.now;

  constructor(private readonly registry: Registry = new Registry()) {
    const registers = [registry];
    const counter = (name: string, help: string) => new Counter({ name, help, registers });
    this.stored = counter('airlock_recorder_events_stored_total', 'Audit events stored in the chains.');
    this.redelivered = counter(
      'airlock_recorder_events_redelivered_total',
      'Messages delivered again that were stored already (skipped).',
    );
    this.duplicates = counter(
      'airlock_recorder_events_duplicate_total',
      'Events whose id was stored already under another offset (a producer retry; kept once).',
    );
    this.deadLettered = counter(
      'airlock_recorder_events_deadlettered_total',
      'Messages recorded as dead letters (not matching the contract, or refused by the store).',
    );
    this.windows = counter('airlock_recorder_batches_total', 'Windows stored, one transaction each.');
    this.failures = counter('airlock_recorder_store_failures_total', 'Windows whose store failed and were read again.');
    this.sizes = new Histogram({
      name: 'airlock_recorder_batch_size',
      help: 'Messages per stored window.',
      buckets: SIZE_BUCKETS,
      registers,
    });
    this.latency = new Histogram({
      name: 'airlock_recorder_event_latency_seconds',
      help: 'From the time in the event id (publication) to the commit of its row.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const { highWatermarks, positions } = this;
    new Gauge({
      name: 'airlock_recorder_lag_messages',
      help: 'Messages of the partition not stored yet, as of the last fetch.',
      labelNames: ['partition'],
      registers,
      collect() {
        this.reset();
        for (const [partition, hw] of highWatermarks) {
          const next = positions.get(partition);
          if (next === undefined) continue;
          this.labels(String(partition)).set(Number(hw > next ? hw - next : 0n));
        }
      },
    });
  }

  /** A fetch saw this high watermark (the offset after the partition's last message). */
  sawHighWatermark(partition: number, highWatermark: string): void {
    this.highWatermarks.set(partition, BigInt(highWatermark));
  }

  /** A window committed: the results of its chains, the events it held, where each partition is now. */
  windowStored(
    messages: number,
    results: WindowResult[],
    eventIds: Iterable<string>,
    positions: { partition: number; next: string }[],
  ): void {
    const now = this.clock();
    this.windows.inc();
    this.sizes.observe(messages);
    for (const r of results) {
      this.stored.inc(r.stored);
      this.redelivered.inc(r.redelivered);
      this.duplicates.inc(r.duplicates);
      this.deadLettered.inc(r.deadLettered);
    }
    for (const id of eventIds) {
      const ms = Math.max(0, now - uuidV7Millis(id));
      this.latency.observe(ms / 1000);
      if (ms < EXACT_MS) this.exact[ms]++;
      else this.beyondExact++;
    }
    for (const p of positions) this.positions.set(p.partition, BigInt(p.next));
  }

  /**
   * The group gave this pipeline these partitions: the lag of any other is another pipeline's
   * (or replica's) to report, so a scrape summing the pipelines counts each partition once.
   */
  assigned(partitions: readonly number[]): void {
    const held = new Set(partitions);
    for (const partition of [...this.highWatermarks.keys(), ...this.positions.keys()]) {
      if (held.has(partition)) continue;
      this.highWatermarks.delete(partition);
      this.positions.delete(partition);
    }
  }

  storeFailed(): void {
    this.failures.inc();
  }

  /** Events by whole milliseconds of publication-to-stored latency (only the non-zero ones). */
  latencyRecord(): { ms: Record<string, number>; beyond: number; limitMs: number } {
    const ms: Record<string, number> = {};
    this.exact.forEach((n, i) => {
      if (n > 0) ms[i] = n;
    });
    return { ms, beyond: this.beyondExact, limitMs: EXACT_MS };
  }

  /** The series of the registry they are on, in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
