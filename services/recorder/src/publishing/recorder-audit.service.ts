import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { AuditEvent, AuditEventDraft } from '@airlock/contracts';
import { AuditPublisher, KAFKA } from '@airlock/messaging';

/** The name every recorder audit event carries in `source`. */
export const AUDIT_SOURCE = 'recorder';

/** Broker acknowledgement deadline of one audit event. */
const AUDIT_TIMEOUT_MS = 3000;

/**
 * The recorder's own entries in the audit trail (`airlock.audit`): calls to its audit API that
 * were refused. It records them like any other producer, through Kafka, never straight into
 * its store, so they are chained and delivered to SIEM consumers like every other event.
 */
@Injectable()
export class RecorderAudit implements OnModuleInit, OnApplicationShutdown {
  private readonly producer: Producer;
  private readonly publisher: AuditPublisher;

  constructor(@Inject(KAFKA) kafka: Kafka) {
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.publisher = new AuditPublisher(this.producer, { timeoutMs: AUDIT_TIMEOUT_MS });
  }

  async onModuleInit(): Promise<void> {
    await this.producer.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
  }

  /** Resolves once the broker has the events; rejects with a `MessagingError` otherwise. */
  emit(...drafts: AuditEventDraft[]): Promise<AuditEvent[]> {
    return this.publisher.emit(...drafts);
  }
}
