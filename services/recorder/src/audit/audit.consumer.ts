import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { ContractViolation, Topics, acceptAuditMessage } from '@airlock/contracts';
import { KAFKA } from '@airlock/messaging';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import { checkWriterRights } from '../store/store-setup';
import { AuditRepository, type AppendResult, type ReceivedAuditEvent } from './audit.repository';
import { deadLetterOf, refusedByStore, type DeadLetter } from './dead-letter';

/** How long a partition waits before it is read again after a failed store. */
const STORE_RETRY_MS = 1000;
/** Broker acknowledgement deadline of the dead letters of one batch. */
const DEAD_LETTER_TIMEOUT_MS = 10_000;

/** One message of a batch: an event to store, or a message that goes to the dead-letter topic. */
type Item =
  | { kind: 'event'; offset: string; event: ReceivedAuditEvent; value: Buffer | null; key: Buffer | null }
  | { kind: 'dead'; offset: string; letter: DeadLetter };

/**
 * Consumes `airlock.audit` in batches, one hash chain per partition: one INSERT per batch, and
 * the offsets are committed only after the database has committed. A crash in between redelivers
 * the batch, which the chain head recognises and skips.
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
  /** Per partition, the store of its latest batch (true once stored, false when it failed) and its first offset. */
  private readonly lanes = new Map<number, { stored: Promise<boolean>; first: string }>();

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(RECORDER_CONFIG) config: RecorderConfig,
    private readonly repository: AuditRepository,
    @InjectDataSource() private readonly db: DataSource,
  ) {
    this.fromBeginning = config.AUDIT_START_FROM === 'earliest';
    this.groupId = `${config.KAFKA_GROUP_PREFIX}-recorder`;
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 15000,
      heartbeatInterval: 1000,
      // Larger batches: fewer statements and less work per event under load.
      minBytes: 64 * 1024,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
    });
    this.deadLetters = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  }

  get isRunning(): boolean {
    return this.running;
  }

  async onModuleInit(): Promise<void> {
    await checkWriterRights(this.db);
    if (!this.fromBeginning) await this.pinStartPositions();
    await this.deadLetters.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: Topics.Audit, fromBeginning: this.fromBeginning });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.logger.error({ err: payload.error.message, restart: payload.restart }, 'audit consumer crashed');
      if (!payload.restart) this.running = false;
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 6,
      eachBatch: (payload) => this.store(payload),
    });
    this.running = true;
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
   * One batch per partition is stored while the next is fetched and checked: Kafka, this process
   * and PostgreSQL then work at the same time instead of in turn. Order and completeness are kept
   * per partition: a batch is stored only after the one before it was, and when a store fails the
   * partition is read again from that batch (the chain head skips what was stored already).
   * Offsets are committed only after the rows are, so a crash redelivers rather than loses.
   */
  private async store({ batch, heartbeat, resolveOffset, isStale }: EachBatchPayload): Promise<void> {
    // Fetched before a rewind of its partition: it will come again from the rewound position.
    if (batch.messages.length === 0 || isStale()) return;
    const previous = this.lanes.get(batch.partition);
    if (previous && !(await previous.stored)) {
      // The batch before failed: nothing after it may be stored first. Read again from it.
      this.lanes.delete(batch.partition);
      this.rewind(batch.topic, batch.partition, previous.first);
      await new Promise((r) => setTimeout(r, STORE_RETRY_MS));
      return;
    }
    if (isStale()) return;
    const items: Item[] = [];
    const t0 = performance.now();
    this.stats.batches++;
    this.stats.received += batch.messages.length;
    for (const m of batch.messages) {
      try {
        items.push({ kind: 'event', offset: m.offset, event: decode(m.value, m.offset), value: m.value, key: m.key });
      } catch (err) {
        this.stats.rejected++;
        const reason = err instanceof ContractViolation ? err.message : String(err);
        this.logger.error(
          { partition: batch.partition, offset: m.offset, err: reason },
          'rejected an audit event that does not match its contract: dead-lettered',
        );
        items.push({ kind: 'dead', offset: m.offset, letter: deadLetterOf('contract', reason, m, batch.partition) });
      }
    }
    this.stats.decodeMs += performance.now() - t0;
    const first = batch.firstOffset() ?? batch.messages[0].offset;
    const last = batch.lastOffset();
    const stored = this.storeInLane(batch.topic, batch.partition, items, first, last);
    this.lanes.set(batch.partition, { stored, first });
    // The next fetch of this partition starts after this batch; what is durable is decided by
    // the commit, which waits for the rows.
    resolveOffset(last);
    await heartbeat();
  }

  private rewind(topic: string, partition: number, offset: string): void {
    try {
      this.consumer.seek({ topic, partition, offset });
    } catch (err) {
      this.logger.error({ partition, err: (err as Error).message }, 'could not rewind the partition');
    }
  }

  /**
   * Stores a batch (dead letters first on their topic, then the events and the dead letters' rows
   * in one transaction), then commits its offsets; resolves false (and rewinds) when any of it fails.
   */
  private async storeInLane(
    topic: string,
    partition: number,
    items: Item[],
    first: string,
    last: string,
  ): Promise<boolean> {
    const t1 = performance.now();
    try {
      const dead = items.flatMap((i) => (i.kind === 'dead' ? [i.letter] : []));
      const received = items.flatMap((i) => (i.kind === 'event' ? [i.event] : []));
      await this.publishDeadLetters(partition, dead);
      let result: AppendResult;
      try {
        result = await this.repository.append(partition, received, last, {
          firstOffset: first,
          deadLetters: dead.map((d) => d.row),
        });
      } catch (err) {
        if (!refusedByStore(err)) throw err;
        this.logger.warn(
          { partition, fromOffset: first, err: (err as Error).message },
          'the store refused a row of the batch: storing it one event at a time',
        );
        result = await this.storeOneByOne(partition, items);
      }
      this.stats.storeMs += performance.now() - t1;
      this.stats.stored += result.stored;
      this.stats.redelivered += result.redelivered;
      this.stats.duplicates += result.duplicates;
      this.logger.debug({ partition, received: received.length, ...result }, 'audit batch stored');
    } catch (err) {
      this.logger.error(
        { partition, fromOffset: first, err: (err as Error).message },
        'audit batch not stored; reading the partition again from it',
      );
      this.rewind(topic, partition, first);
      return false;
    }
    const t2 = performance.now();
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
    } catch (err) {
      // The rows are stored; an uncommitted offset only means a redelivery, which is skipped.
      this.logger.warn({ partition, err: (err as Error).message }, 'offset commit failed after the batch was stored');
    }
    this.stats.commitMs += performance.now() - t2;
    return true;
  }

  /**
   * Stores a batch the store refused, event by event in Kafka order: the events it takes are
   * chained, the one it refuses is dead-lettered (stage store) and the head moves past it.
   */
  private async storeOneByOne(partition: number, items: Item[]): Promise<AppendResult> {
    const total: AppendResult = { stored: 0, deadLettered: 0, redelivered: 0, duplicates: 0 };
    const add = (r: AppendResult): void => {
      total.stored += r.stored;
      total.deadLettered += r.deadLettered;
      total.redelivered += r.redelivered;
      total.duplicates += r.duplicates;
    };
    for (const item of items) {
      const at = { firstOffset: item.offset };
      if (item.kind === 'dead') {
        // Already on the dead-letter topic.
        add(await this.repository.append(partition, [], item.offset, { ...at, deadLetters: [item.letter.row] }));
        continue;
      }
      try {
        add(await this.repository.append(partition, [item.event], item.offset, at));
      } catch (err) {
        if (!refusedByStore(err)) throw err;
        const reason = `the audit store refused the event: ${(err as Error).message}`;
        this.logger.error(
          { partition, offset: item.offset, err: reason },
          'audit event refused by the store: dead-lettered',
        );
        const letter = deadLetterOf('store', reason, item, partition);
        await this.publishDeadLetters(partition, [letter]);
        add(await this.repository.append(partition, [], item.offset, { ...at, deadLetters: [letter.row] }));
      }
    }
    return total;
  }

  /** Resolves once the broker has every dead letter; the batch is not stored before that. */
  private async publishDeadLetters(partition: number, letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.deadLetters.send({
          topic: Topics.AuditDeadLetter,
          acks: -1,
          timeout: DEAD_LETTER_TIMEOUT_MS,
          messages: letters.map((l) => ({
            key: String(partition),
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
    // Let the batches being stored finish (their commits may fail now: a redelivery then skips them).
    await Promise.allSettled([...this.lanes.values()].map((l) => l.stored));
    await this.consumer.disconnect();
    await this.deadLetters.disconnect();
  }
}

/**
 * Checks one message against the audit contract and puts it in canonical form (see
 * acceptAuditMessage). The store keeps the message as it arrived (unknown fields included: the
 * contract grows additively), and its link hashes exactly that.
 */
export function decode(value: Buffer | null, offset: string): ReceivedAuditEvent {
  return { ...acceptAuditMessage(value), offset };
}
