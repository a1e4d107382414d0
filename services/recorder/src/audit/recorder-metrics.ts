import { Injectable } from '@nestjs/common';
import { uuidV7Millis } from '../integrity/partition-day';

/** Upper bounds (seconds) of the latency histogram, and (events) of the window-size histogram. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SIZE_BUCKETS = [1, 10, 100, 1_000, 10_000, 100_000];
/** The exact latency record keeps one counter per millisecond up to this; later is counted apart. */
const EXACT_MS = 60_000;

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (v <= this.bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
  lines(name: string, help: string): string[] {
    const out = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    let cumulative = 0;
    this.bounds.forEach((b, i) => {
      cumulative += this.counts[i];
      out.push(`${name}_bucket{le="${b}"} ${cumulative}`);
    });
    out.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return out;
  }
}

interface WindowResult {
  stored: number;
  deadLettered: number;
  redelivered: number;
  duplicates: number;
}

/**
 * The recorder's ingest figures in the Prometheus text format (GET /metrics): events stored,
 * windows (one transaction each) and their sizes, events dead-lettered, consumer lag per
 * partition, and the latency from an event's publication (the time its UUIDv7 id carries, set
 * when the publisher built it) to the commit of its row. No event content, no labels but the
 * partition.
 */
@Injectable()
export class RecorderMetrics {
  private stored = 0;
  private redelivered = 0;
  private duplicates = 0;
  private deadLettered = 0;
  private windows = 0;
  private failures = 0;
  private readonly sizes = new Histogram(SIZE_BUCKETS);
  private readonly latency = new Histogram(LATENCY_BUCKETS);
  /** Events per millisecond of latency (index = ms), for exact percentiles over an interval. */
  private readonly exact = new Uint32Array(EXACT_MS);
  private beyondExact = 0;
  /** Per partition: the broker's high watermark last seen, and the next offset to store. */
  private readonly highWatermarks = new Map<number, bigint>();
  private readonly positions = new Map<number, bigint>();

  /** The clock commits are timed with (a test sets its own). */
  clock: () => number = Date.now;

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
    this.windows++;
    this.sizes.observe(messages);
    for (const r of results) {
      this.stored += r.stored;
      this.redelivered += r.redelivered;
      this.duplicates += r.duplicates;
      this.deadLettered += r.deadLettered;
    }
    for (const id of eventIds) {
      const ms = Math.max(0, now - uuidV7Millis(id));
      this.latency.observe(ms / 1000);
      if (ms < EXACT_MS) this.exact[ms]++;
      else this.beyondExact++;
    }
    for (const p of positions) this.positions.set(p.partition, BigInt(p.next));
  }

  storeFailed(): void {
    this.failures++;
  }

  /** Events by whole milliseconds of publication-to-stored latency (only the non-zero ones). */
  latencyRecord(): { ms: Record<string, number>; beyond: number; limitMs: number } {
    const ms: Record<string, number> = {};
    this.exact.forEach((n, i) => {
      if (n > 0) ms[i] = n;
    });
    return { ms, beyond: this.beyondExact, limitMs: EXACT_MS };
  }

  text(): string {
    const counter = (name: string, help: string, value: number): string[] => [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} counter`,
      `${name} ${value}`,
    ];
    const lag = [
      '# HELP airlock_recorder_lag_messages Messages of the partition not stored yet, as of the last fetch.',
    ];
    lag.push('# TYPE airlock_recorder_lag_messages gauge');
    for (const [partition, hw] of [...this.highWatermarks].sort((a, b) => a[0] - b[0])) {
      const next = this.positions.get(partition);
      if (next === undefined) continue;
      lag.push(`airlock_recorder_lag_messages{partition="${partition}"} ${hw > next ? hw - next : 0n}`);
    }
    return `${[
      ...counter('airlock_recorder_events_stored_total', 'Audit events stored in the chains.', this.stored),
      ...counter(
        'airlock_recorder_events_redelivered_total',
        'Messages delivered again that were stored already (skipped).',
        this.redelivered,
      ),
      ...counter(
        'airlock_recorder_events_duplicate_total',
        'Events whose id was stored already under another offset (a producer retry; kept once).',
        this.duplicates,
      ),
      ...counter(
        'airlock_recorder_events_deadlettered_total',
        'Messages recorded as dead letters (not matching the contract, or refused by the store).',
        this.deadLettered,
      ),
      ...counter('airlock_recorder_batches_total', 'Windows stored, one transaction each.', this.windows),
      ...counter(
        'airlock_recorder_store_failures_total',
        'Windows whose store failed and were read again.',
        this.failures,
      ),
      ...this.sizes.lines('airlock_recorder_batch_size', 'Messages per stored window.'),
      ...this.latency.lines(
        'airlock_recorder_event_latency_seconds',
        'From the time in the event id (publication) to the commit of its row.',
      ),
      ...lag,
    ].join('\n')}\n`;
  }
}
