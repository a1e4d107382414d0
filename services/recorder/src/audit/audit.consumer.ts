import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import {
  AuditEventSchema,
  ContractViolation,
  Topics,
  auditOwnershipViolation,
  parseContract,
} from '@airlock/contracts';
import { KAFKA } from '@airlock/messaging';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import { canonicalJson } from '../integrity/canonical-json';
import { checkWriterRights } from '../store/store-setup';
import { AuditRepository, type ReceivedAuditEvent } from './audit.repository';

/**
 * Consumes `airlock.audit` in batches, one hash chain per partition: one INSERT per batch, and
 * the offsets are committed only after the database has committed. A crash in between redelivers
 * the batch, which the chain head recognises and skips. An event that fails its schema is logged
 * and skipped (it stays on the topic for inspection), and so is one whose `source` does not own
 * its type (auditOwnershipViolation in libs/contracts).
 */
/** How long a partition waits before it is read again after a failed store. */
const STORE_RETRY_MS = 1000;

@Injectable()
export class AuditConsumer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuditConsumer.name);
  private readonly consumer: Consumer;
  private readonly groupId: string;
  private running = false;
  /** Counters since start: a message counted twice in `received` was delivered twice. */
  readonly stats = {
    received: 0,
    stored: 0,
    rejected: 0,
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
  }

  get isRunning(): boolean {
    return this.running;
  }

  async onModuleInit(): Promise<void> {
    await checkWriterRights(this.db);
    if (!this.fromBeginning) await this.pinStartPositions();
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
    const received: ReceivedAuditEvent[] = [];
    const t0 = performance.now();
    this.stats.batches++;
    this.stats.received += batch.messages.length;
    for (const m of batch.messages) {
      try {
        received.push(decode(m.value, m.offset));
      } catch (err) {
        this.stats.rejected++;
        const reason = err instanceof ContractViolation ? err.message : String(err);
        this.logger.error(
          { partition: batch.partition, offset: m.offset, err: reason },
          'rejected an audit event that does not match its contract',
        );
      }
    }
    this.stats.decodeMs += performance.now() - t0;
    const first = batch.firstOffset() ?? batch.messages[0].offset;
    const last = batch.lastOffset();
    const stored = this.storeInLane(batch.topic, batch.partition, received, first, last);
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

  /** Stores a batch, then commits its offsets; resolves false (and rewinds) when the store fails. */
  private async storeInLane(
    topic: string,
    partition: number,
    received: ReceivedAuditEvent[],
    first: string,
    last: string,
  ): Promise<boolean> {
    const t1 = performance.now();
    try {
      const result = await this.repository.append(partition, received, last);
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

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.consumer.stop();
    // Let the batches being stored finish (their commits may fail now: a redelivery then skips them).
    await Promise.allSettled([...this.lanes.values()].map((l) => l.stored));
    await this.consumer.disconnect();
  }
}

/**
 * Checks one message against the audit contract and puts it in canonical form. The store keeps
 * the message as it arrived (unknown fields included: the contract grows additively), and its
 * link hashes exactly that.
 */
export function decode(value: Buffer | null, offset: string): ReceivedAuditEvent {
  if (value === null) throw new ContractViolation(Topics.Audit, 'empty message');
  const raw = value.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ContractViolation(Topics.Audit, 'not valid JSON');
  }
  // PostgreSQL's jsonb cannot hold U+0000; such an event could never be stored.
  if (raw.includes('\\u0000') && holdsNul(parsed)) throw new ContractViolation(Topics.Audit, 'a string holds U+0000');
  const event = parseContract(Topics.Audit, AuditEventSchema, parsed);
  let canonical: string;
  try {
    canonical = canonicalJson(parsed);
  } catch (err) {
    throw new ContractViolation(Topics.Audit, (err as Error).message);
  }
  // A service writes only its own event types: an ingress event from the policy principal is forged.
  const notOwned = auditOwnershipViolation(event);
  if (notOwned) throw new ContractViolation(Topics.Audit, notOwned);
  return { event, raw, canonical, offset };
}

function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.includes('\0') || holdsNul(v));
  }
  return false;
}
