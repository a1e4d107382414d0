import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { ContractViolation, Topics } from '@airlock/contracts';
import { KAFKA } from '@airlock/messaging';
import { SpanKind, contextFromIds, startSpan, tracingEnabled } from '@airlock/observability';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import { checkWriterRights } from '../store/store-setup';
import { AuditRepository, type AppendResult, type ChainAppend, type PreparedLinks } from './audit.repository';
import { deadLetterOf, refusedByStore, type DeadLetter } from './dead-letter';
import { ReceivedAuditEvent, ReceivedBatch } from './received-events';
import { RecorderMetrics } from './recorder-metrics';

/** How long a partition waits before it is read again after a failed store. */
const STORE_RETRY_MS = 1000;
/** Broker acknowledgement deadline of the dead letters of one batch. */
const DEAD_LETTER_TIMEOUT_MS = 10_000;

/** What a fetch waits for, within the window's time: about 2,000 events. */
const FETCH_MIN_BYTES = 1024 * 1024;

/**
 * Windows closed and waiting to be stored, beyond which reading the topic waits. Under a backlog
 * the fetches and their checking run ahead of PostgreSQL, which is not left without a window to
 * write while the next fetch is on its way. Four rather than two looked faster while the bench
 * counted from the first stored event, which left out the receipt of the windows read ahead;
 * counted from the start of receipt, two stored more events a second in six alternating pairs
 * (bench/results/audit-cost-model.md).
 */
const MAX_WAITING_WINDOWS = 2;
/**
 * A window this large is stored as two transactions side by side, each with half of its
 * partitions: PostgreSQL then works with two backends under a backlog. Smaller windows are one
 * transaction, the point of gathering them.
 */
const SPLIT_WINDOW_AT = 2_000;

/** A message that goes to the dead-letter topic instead of the store. */
interface DeadItem {
  offset: string;
  letter: DeadLetter;
}

/**
 * What a window holds of one partition: consecutive messages from `first` to `last`, each an
 * event to store or a dead letter, each list in Kafka order.
 */
interface PartitionRun {
  topic: string;
  partition: number;
  first: string;
  last: string;
  events: ReceivedAuditEvent[];
  dead: DeadItem[];
}

/** Messages of every partition gathered for one transaction. */
class Window {
  readonly runs = new Map<number, PartitionRun>();
  messages = 0;
  /** When its first messages arrived (epoch ms): where the spans of its events start. */
  readonly opened = Date.now();
  /** Its chains' batches, once closed. */
  private chainAppends: ChainAppend[] | undefined;
  /** Its batches linked ahead, while the window before it is written (see AuditRepository.prepare). */
  prepared: Promise<PreparedLinks | undefined> | undefined;
  /** Set once its transaction has linked its chains: the next window may then be linked ahead. */
  linked = false;
  private settle!: () => void;
  /** Resolves once the window is stored, or abandoned after a failure. */
  readonly settled = new Promise<void>((r) => (this.settle = r));

  add(
    topic: string,
    partition: number,
    first: string,
    last: string,
    events: ReceivedAuditEvent[],
    dead: DeadItem[],
  ): void {
    const run = this.runs.get(partition);
    if (run) {
      run.last = last;
      for (const e of events) run.events.push(e);
      for (const d of dead) run.dead.push(d);
    } else {
      this.runs.set(partition, { topic, partition, first, last, events, dead });
    }
    this.messages += events.length + dead.length;
  }

  done(): void {
    this.settle();
  }

  /** One batch per partition: its events, and the messages that are dead-lettered instead. */
  appends(): ChainAppend[] {
    this.chainAppends ??= [...this.runs.values()].map((r) => ({
      chain: r.partition,
      batch: r.events,
      lastOffset: r.last,
      firstOffset: r.first,
      deadLetters: r.dead.map((d) => d.letter.row),
    }));
    return this.chainAppends;
  }
}

/** What a dead letter is made from: a message as it came. */
type LetterSource = Parameters<typeof deadLetterOf>[2];

/**
 * Consumes `airlock.audit` into one hash chain per partition. A fetch waits up to
 * `AUDIT_BATCH_WINDOW_MS` for a megabyte of events; what it brings, of every partition this process
 * reads, is one window (cut at `AUDIT_BATCH_MAX_EVENTS`), stored with one COPY in one transaction;
 * its offsets are then committed in one request. So batches grow with the wait rather than with
 * the rate: at a few thousand events a second a window still holds hundreds, and the fixed costs
 * (fetch, transaction, commit, offset commit) are paid once for all of them. Offsets are committed only after the
 * database has committed; a crash in between redelivers the window, which the chain heads
 * recognise and skip.
 *
 * Nothing is dropped silently: a message that fails the audit contract, or that the store
 * refuses, is published on `airlock.audit.deadletter` (with its reason and bytes) and recorded in
 * the store's dead-letter table in the transaction that moves the chain head past it. Until both
 * happened the offset does not move: a failure reads the partition again.
 */

@Injectable()
export class AuditConsumer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuditConsumer.name);
  private readonly consumer: Consumer;
  private readonly deadLetters: Producer;
  private readonly groupId: string;
  private running = false;
  /** Counters since start: a message counted twice in `received` was delivered twice. */
  readonly stats = {
    received: 0,
    stored: 0,
    rejected: 0,
    /** Messages published on the dead-letter topic (a redelivery may publish one again). */
    deadLettered: 0,
    redelivered: 0,
    duplicates: 0,
    batches: 0,
    /** Time spent checking and canonicalising, storing (chaining and the transaction), and committing offsets. */
    decodeMs: 0,
    storeMs: 0,
    commitMs: 0,
  };
  private readonly fromBeginning: boolean;
  private readonly maxEvents: number;
  /** The window gathering messages, and the timer that closes it. */
  private open: Window | undefined;
  private closer: NodeJS.Timeout | undefined;
  /** Closed windows, oldest first: each is stored only after the one before it. */
  private readonly waiting: Window[] = [];
  private draining: Promise<void> | undefined;
  /** After a failed store, reading waits until then before the rewound partitions are read again. */
  private pausedUntil = 0;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(RECORDER_CONFIG) config: RecorderConfig,
    private readonly repository: AuditRepository,
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: RecorderMetrics,
  ) {
    this.fromBeginning = config.AUDIT_START_FROM === 'earliest';
    this.maxEvents = config.AUDIT_BATCH_MAX_EVENTS;
    this.groupId = `${config.KAFKA_GROUP_PREFIX}-recorder`;
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 15000,
      heartbeatInterval: 1000,
      // A fetch waits for a megabyte, up to the window, rather than returning a few messages at
      // once: each fetch costs this process and the broker about the same whatever it brings.
      // Under a backlog a fetch is full long before.
      minBytes: FETCH_MIN_BYTES,
      maxWaitTimeInMs: config.AUDIT_BATCH_WINDOW_MS,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
    });
    this.deadLetters = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Checks the store role and connects; reading starts with start(). */
  async onModuleInit(): Promise<void> {
    await checkWriterRights(this.db);
    if (!this.fromBeginning) await this.pinStartPositions();
    await this.deadLetters.connect();
    await this.consumer.connect();
  }

  /**
   * Joins the group and starts reading; `paused`, it joins without reading until resume(). The
   * process's pipelines (AuditPipelines) start so when there are several: a pipeline that read
   * alone until the others joined would have read ahead what they then read again.
   */
  async start({ paused = false }: { paused?: boolean } = {}): Promise<void> {
    await this.consumer.subscribe({ topic: Topics.Audit, fromBeginning: this.fromBeginning });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.metrics.assigned(payload.memberAssignment[Topics.Audit] ?? []);
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.logger.error({ err: payload.error.message, restart: payload.restart }, 'audit consumer crashed');
      if (!payload.restart) this.running = false;
    });
    const joined = this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 6,
      eachBatch: (payload) => this.store(payload),
    });
    // Before the join completes (run has made the group by now): not a single fetch until resume().
    if (paused) this.consumer.pause([{ topic: Topics.Audit }]);
    await joined;
    this.running = true;
  }

  /** Starts reading after a paused start. */
  resume(): void {
    this.consumer.resume([{ topic: Topics.Audit }]);
  }

  /**
   * `latest` means the end of the stream at the group's first start. The position is committed
   * at once for every partition without one, so a recorder that stops before its first batch
   * does not skip, on restart, what arrived meanwhile.
   */
  private async pinStartPositions(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: this.groupId, topics: [Topics.Audit] });
      const missing = new Set(committed.partitions.filter((p) => p.offset === '-1').map((p) => p.partition));
      if (missing.size === 0) return;
      const ends = await admin.fetchTopicOffsets(Topics.Audit);
      const partitions = ends
        .filter((e) => missing.has(e.partition))
        .map((e) => ({ partition: e.partition, offset: e.high }));
      await admin.setOffsets({ groupId: this.groupId, topic: Topics.Audit, partitions });
      this.logger.log({ partitions: partitions.length }, 'first start: recording from the end of the audit stream');
    } catch (err) {
      // Another recorder of the group is already running and owns the positions.
      this.logger.warn({ err: (err as Error).message }, 'start positions not pinned');
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Checks a fetched batch and adds it to the open window; the window is stored while the next
   * one gathers, so Kafka, this process and PostgreSQL work at the same time instead of in turn.
   * Order and completeness are kept per partition: windows are stored one after the other, and
   * when one fails every partition it (or a later window) holds is read again from there (the
   * chain heads skip what was stored already). Offsets are committed only after the rows are, so
   * a crash redelivers rather than loses.
   */
  private async store({ batch, heartbeat, resolveOffset, isStale }: EachBatchPayload): Promise<void> {
    // Fetched before a rewind of its partition: it will come again from the rewound position.
    if (batch.messages.length === 0 || isStale()) return;
    const pause = this.pausedUntil - Date.now();
    if (pause > 0) {
      // A store failed: not resolved, so the batch is fetched again after the pause.
      await new Promise((r) => setTimeout(r, pause));
      return;
    }
    let bytes = 0;
    for (const m of batch.messages) bytes += m.value?.length ?? 0;
    const received = new ReceivedBatch(batch.messages.length, bytes);
    const events: ReceivedAuditEvent[] = [];
    const dead: DeadItem[] = [];
    const t0 = performance.now();
    this.stats.batches++;
    this.stats.received += batch.messages.length;
    for (const m of batch.messages) {
      try {
        events.push(received.receive(m.value, m.key, m.offset));
      } catch (err) {
        dead.push({ offset: m.offset, letter: this.refusedAtReceipt(err, m, batch.partition) });
      }
    }
    this.stats.decodeMs += performance.now() - t0;
    if (isStale()) return;
    const first = batch.firstOffset() ?? batch.messages[0].offset;
    const last = batch.lastOffset();
    this.metrics.sawHighWatermark(batch.partition, batch.highWatermark);
    if (!this.open) {
      this.open = new Window();
      // The fetch already waited up to the window for its data: the window holds what that fetch
      // brought, of every partition, and closes once its batches are in (they are handed over in
      // the same turn). Waiting again here would add a second window to every event's latency.
      this.closer = setTimeout(() => this.close(), 0);
    }
    const window = this.open;
    window.add(batch.topic, batch.partition, first, last, events, dead);
    if (window.messages >= this.maxEvents) this.close();
    // The next fetch of this partition starts after this batch; what is durable is decided by
    // the commit, which waits for the rows.
    resolveOffset(last);
    await heartbeat();
    // Reading waits while the store is behind, so memory holds a bounded number of windows.
    while (this.waiting.length > MAX_WAITING_WINDOWS) await this.waiting[0].settled;
  }

  /** Closes the open window and has it stored after those before it. */
  private close(): void {
    clearTimeout(this.closer);
    this.closer = undefined;
    const window = this.open;
    this.open = undefined;
    if (!window) return;
    this.waiting.push(window);
    if (this.waiting.length === 2 && this.waiting[0].linked) this.prepareNext();
    this.draining ??= this.drain();
  }

  /**
   * Links the window after the one being written ahead of its transaction, once that one is
   * linked: the main thread does it while PostgreSQL takes the COPY, instead of after it.
   */
  private prepareNext(): void {
    const next = this.waiting[1];
    if (next === undefined || next.prepared !== undefined) return;
    next.prepared = this.repository.prepare(next.appends()).catch((err: Error) => {
      this.logger.warn({ err: err.message }, 'linking ahead failed: the window is linked in its transaction');
      return undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const window = this.waiting[0];
      const stored = await this.storeWindow(window);
      if (stored) {
        this.waiting.shift();
        window.done();
      } else {
        this.abandon();
      }
    }
    this.draining = undefined;
  }

  /**
   * After a failed store: drops the windows not stored yet (the failed one, those waiting, the
   * open one) and reads each of their partitions again from its first message in them.
   */
  private abandon(): void {
    clearTimeout(this.closer);
    this.closer = undefined;
    const windows = [...this.waiting, ...(this.open ? [this.open] : [])];
    this.waiting.length = 0;
    this.open = undefined;
    const from = new Map<number, PartitionRun>();
    for (const w of windows) {
      for (const run of w.runs.values()) if (!from.has(run.partition)) from.set(run.partition, run);
    }
    this.pausedUntil = Date.now() + STORE_RETRY_MS;
    for (const run of from.values()) this.rewind(run.topic, run.partition, run.first);
    for (const w of windows) w.done();
  }

  private rewind(topic: string, partition: number, offset: string): void {
    try {
      this.consumer.seek({ topic, partition, offset });
    } catch (err) {
      this.logger.error({ partition, err: (err as Error).message }, 'could not rewind the partition');
    }
  }

  /**
   * Stores a window (dead letters first on their topic, then the events and the dead letters'
   * rows of every partition in one transaction), then commits its offsets; resolves false when
   * any of it fails.
   */
  private async storeWindow(window: Window): Promise<boolean> {
    const runs = [...window.runs.values()];
    const t1 = performance.now();
    try {
      await this.publishDeadLetters(runs.flatMap((r) => r.dead.map((d) => d.letter)));
      let results: AppendResult[];
      try {
        const appends = window.appends();
        const prepared = await window.prepared;
        const parts =
          window.messages >= SPLIT_WINDOW_AT && appends.length > 1
            ? [appends.slice(0, Math.ceil(appends.length / 2)), appends.slice(Math.ceil(appends.length / 2))]
            : [appends];
        let unlinked = parts.length;
        const onLinked = (): void => {
          if (--unlinked > 0) return;
          window.linked = true;
          this.prepareNext();
        };
        // Halves commit each on their own; if one fails the window is read again, and the chain
        // heads skip what the other half stored.
        const settled = await Promise.allSettled(
          parts.map((part) => this.repository.appendChains(part, { prepared, onLinked })),
        );
        results = settled.flatMap((h) => {
          if (h.status === 'rejected') throw h.reason;
          return h.value;
        });
      } catch (err) {
        if (!refusedByStore(err)) throw err;
        this.logger.warn(
          { partitions: runs.map((r) => r.partition), err: (err as Error).message },
          'the store refused a row of the window: storing it one event at a time',
        );
        results = [];
        for (const run of runs) results.push(await this.storeOneByOne(run));
      }
      this.stats.storeMs += performance.now() - t1;
      for (const result of results) {
        this.stats.stored += result.stored;
        this.stats.redelivered += result.redelivered;
        this.stats.duplicates += result.duplicates;
      }
      this.metrics.windowStored(
        window.messages,
        results,
        window.appends().flatMap((a) => a.batch.map((e) => e.id)),
        runs.map((r) => ({ partition: r.partition, next: (BigInt(r.last) + 1n).toString() })),
      );
      if (tracingEnabled()) traceStored(window);
      this.logger.debug({ partitions: runs.length, messages: window.messages }, 'audit window stored');
    } catch (err) {
      this.logger.error(
        { partitions: runs.map((r) => ({ partition: r.partition, from: r.first })), err: (err as Error).message },
        'audit window not stored; reading its partitions again from it',
      );
      this.metrics.storeFailed();
      return false;
    }
    const t2 = performance.now();
    try {
      await this.consumer.commitOffsets(
        runs.map((r) => ({ topic: r.topic, partition: r.partition, offset: (BigInt(r.last) + 1n).toString() })),
      );
    } catch (err) {
      // The rows are stored; an uncommitted offset only means a redelivery, which is skipped.
      this.logger.warn({ err: (err as Error).message }, 'offset commit failed after the window was stored');
    }
    this.stats.commitMs += performance.now() - t2;
    return true;
  }

  /**
   * The dead letter of a message refused when it was received: one the contract refuses (stage
   * contract), or one with a value PostgreSQL would refuse, found when its row was written (stage
   * store, as the store's own refusal would give).
   */
  private refusedAtReceipt(err: unknown, m: LetterSource, partition: number): DeadLetter {
    if (refusedByStore(err)) return this.refusedByStoreLetter(err as Error, m, partition);
    this.stats.rejected++;
    const reason = err instanceof ContractViolation ? err.message : String(err);
    this.logger.error(
      { partition, offset: m.offset, err: reason },
      'rejected an audit event that does not match its contract: dead-lettered',
    );
    return deadLetterOf('contract', reason, m, partition);
  }

  /** The dead letter (stage store) of an event the store refuses, or would refuse (see refusedAtReceipt). */
  private refusedByStoreLetter(err: Error, m: LetterSource, partition: number): DeadLetter {
    const reason = `the audit store refused the event: ${err.message}`;
    this.logger.error({ partition, offset: m.offset, err: reason }, 'audit event refused by the store: dead-lettered');
    return deadLetterOf('store', reason, m, partition);
  }

  /**
   * Stores a batch the store refused, event by event in Kafka order: the events it takes are
   * chained, the one it refuses is dead-lettered (stage store) and the head moves past it.
   */
  private async storeOneByOne({ partition, events, dead }: PartitionRun): Promise<AppendResult> {
    const total: AppendResult = { stored: 0, deadLettered: 0, redelivered: 0, duplicates: 0 };
    const add = (r: AppendResult): void => {
      total.stored += r.stored;
      total.deadLettered += r.deadLettered;
      total.redelivered += r.redelivered;
      total.duplicates += r.duplicates;
    };
    const items: (ReceivedAuditEvent | DeadItem)[] = [...events, ...dead];
    items.sort((a, b) => {
      const d = BigInt(a.offset) - BigInt(b.offset);
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    });
    for (const item of items) {
      const at = { firstOffset: item.offset };
      if (!(item instanceof ReceivedAuditEvent)) {
        // Already on the dead-letter topic.
        add(await this.repository.append(partition, [], item.offset, { ...at, deadLetters: [item.letter.row] }));
        continue;
      }
      try {
        add(await this.repository.append(partition, [item], item.offset, at));
      } catch (err) {
        if (!refusedByStore(err)) throw err;
        const letter = this.refusedByStoreLetter(err as Error, item, partition);
        await this.publishDeadLetters([letter]);
        add(await this.repository.append(partition, [], item.offset, { ...at, deadLetters: [letter.row] }));
      }
    }
    return total;
  }

  /** Resolves once the broker has every dead letter; the batch is not stored before that. */
  private async publishDeadLetters(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.deadLetters.send({
          topic: Topics.AuditDeadLetter,
          acks: -1,
          timeout: DEAD_LETTER_TIMEOUT_MS,
          messages: letters.map((l) => ({
            key: String(l.record.partition),
            value: JSON.stringify(l.record),
            headers: { 'airlock-deadletter-stage': l.record.stage },
          })),
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no broker acknowledgement within ${DEAD_LETTER_TIMEOUT_MS} ms`)),
            DEAD_LETTER_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    this.stats.deadLettered += letters.length;
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.consumer.stop();
    // Store what was read (its commits may fail now: a redelivery then skips it).
    this.close();
    await this.draining;
    await this.consumer.disconnect();
    await this.deadLetters.disconnect();
  }
}

/**
 * With tracing on, each stored event that names its trace gets a span there (a child of the span
 * that made it), from its window's arrival to its commit: the recorder's step of the operation.
 */
function traceStored(window: Window): void {
  for (const run of window.runs.values()) {
    for (const e of run.events) {
      const { traceId, spanId, type } = e.event();
      if (traceId === undefined || spanId === undefined) continue;
      const span = startSpan('airlock.audit store', SpanKind.CONSUMER, contextFromIds(traceId, spanId), window.opened);
      span.setAttribute('airlock.audit.type', type);
      span.setAttribute('messaging.kafka.partition', run.partition);
      span.end();
    }
  }
}
