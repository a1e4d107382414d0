import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { AuditEventSchema, ContractViolation, Topics, parseContract } from '@airlock/contracts';
import { KAFKA } from '@airlock/messaging';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import { canonicalJson } from '../integrity/canonical-json';
import { checkWriterRights } from '../store/store-setup';
import { AuditRepository, type ReceivedAuditEvent } from './audit.repository';

/**
 * Consumes `airlock.audit` in batches, one hash chain per partition: one INSERT per batch, and
 * the offsets are committed only after the database has committed. A crash in between redelivers
 * the batch, which the chain head recognises and skips. An event that fails its schema is logged
 * and skipped (it stays on the topic for inspection).
 */
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

  private async store({ batch, heartbeat, resolveOffset }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
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
    const last = batch.lastOffset();
    const t1 = performance.now();
    const result = await this.repository.append(batch.partition, received, last);
    const t2 = performance.now();
    this.stats.stored += result.stored;
    this.stats.redelivered += result.redelivered;
    this.stats.duplicates += result.duplicates;
    // Only now, with the rows committed: move the consumer on (resolve) and make it durable (commit).
    resolveOffset(last);
    await this.consumer.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
    ]);
    await heartbeat();
    this.stats.decodeMs += t1 - t0;
    this.stats.storeMs += t2 - t1;
    this.stats.commitMs += performance.now() - t2;
    this.logger.debug({ partition: batch.partition, received: batch.messages.length, ...result }, 'audit batch stored');
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
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
