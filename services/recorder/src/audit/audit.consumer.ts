import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { AuditEventSchema, ContractViolation, Topics, decodeContract } from '@airlock/contracts';
import { KAFKA } from '@airlock/messaging';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import { AuditRepository, type ReceivedAuditEvent } from './audit.repository';

/**
 * Consumes `airlock.audit` in batches: one INSERT per batch, and the offsets are
 * committed only after the database has committed. A crash in between redelivers the batch,
 * and the unique event id makes the redelivery a no-op. An event that fails its schema is
 * logged and skipped.
 */
@Injectable()
export class AuditConsumer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuditConsumer.name);
  private readonly consumer: Consumer;
  private running = false;
  /** Counters since start: a message counted twice in `received` was delivered twice. */
  readonly stats = { received: 0, stored: 0, rejected: 0, batches: 0 };
  private readonly fromBeginning: boolean;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    @Inject(RECORDER_CONFIG) config: RecorderConfig,
    private readonly repository: AuditRepository,
  ) {
    this.fromBeginning = config.AUDIT_START_FROM === 'earliest';
    this.consumer = kafka.consumer({
      groupId: `${config.KAFKA_GROUP_PREFIX}-recorder`,
      allowAutoTopicCreation: false,
      sessionTimeout: 15000,
      heartbeatInterval: 1000,
      // Larger batches: fewer statements and less work per event under load.
      minBytes: 64 * 1024,
      maxWaitTimeInMs: 100,
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  async onModuleInit(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: Topics.Audit, fromBeginning: this.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 2,
      eachBatch: (payload) => this.store(payload),
    });
    this.running = true;
  }

  private async store({ batch, heartbeat, resolveOffset }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    const received: ReceivedAuditEvent[] = [];
    this.stats.batches++;
    this.stats.received += batch.messages.length;
    for (const m of batch.messages) {
      try {
        const raw = m.value?.toString() ?? '';
        received.push({
          event: decodeContract(Topics.Audit, AuditEventSchema, raw),
          raw,
          partition: batch.partition,
          offset: m.offset,
        });
      } catch (err) {
        this.stats.rejected++;
        const reason = err instanceof ContractViolation ? err.message : String(err);
        this.logger.error(
          { partition: batch.partition, offset: m.offset, err: reason },
          'rejected an audit event that does not match its contract',
        );
      }
    }
    const stored = await this.repository.insertBatch(received);
    this.stats.stored += stored;
    // Only now, with the rows committed: move the consumer on (resolve) and make it durable (commit).
    const last = batch.lastOffset();
    resolveOffset(last);
    await this.consumer.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
    ]);
    await heartbeat();
    this.logger.debug({ partition: batch.partition, received: batch.messages.length, stored }, 'audit batch stored');
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }
}
