import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { AuditEvent, AuditEventDraft } from '@airlock/contracts';
import { AuditPublisher, KAFKA } from '@airlock/messaging';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import { auditUnacknowledged, countOutcomes } from '../metrics/ingress-metrics';

/** The ingress's audit trail on `airlock.audit`. */
@Injectable()
export class AuditService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuditService.name);
  private readonly producer: Producer;
  private readonly publisher: AuditPublisher;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Events published in the background that the broker has not acknowledged yet. */
  private unacknowledged = 0;
  private readonly maxUnacknowledged: number;

  constructor(@Inject(KAFKA) kafka: Kafka, @Inject(INGRESS_CONFIG) config: IngressConfig) {
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.maxUnacknowledged = config.AUDIT_MAX_UNACKNOWLEDGED;
    this.publisher = new AuditPublisher(this.producer, {
      timeoutMs: config.AUDIT_TIMEOUT_MS,
      lingerMs: config.AUDIT_LINGER_MS,
      minIntervalMs: config.AUDIT_REQUEST_INTERVAL_MS,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.producer.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.producer.disconnect();
  }

  private failing = false;

  /**
   * False after a background publish failed, until a publish succeeds again, and while too many
   * background events wait for the broker: then nothing may run before its audit is on the stream.
   */
  get healthy(): boolean {
    return !this.failing && this.unacknowledged < this.maxUnacknowledged;
  }

  /** Resolves once the broker has the events; rejects otherwise (the caller fails closed). */
  emit(...drafts: AuditEventDraft[]): Promise<AuditEvent[]> {
    countOutcomes(drafts);
    return this.publisher.emit(...drafts).then((events) => {
      this.failing = false;
      return events;
    });
  }

  /**
   * For events after the answer has gone out (nothing left to refuse): published in the
   * background, a failure is logged, and shutdown waits for them.
   */
  emitAfter(...drafts: AuditEventDraft[]): void {
    countOutcomes(drafts);
    this.unacknowledged += drafts.length;
    auditUnacknowledged.inc(drafts.length);
    const p = this.publisher.emitLingering(...drafts).then(
      () => {
        this.failing = false;
      },
      (err: Error) => {
        this.failing = true;
        this.logger.error(
          { err: err.message, types: drafts.map((d) => d.type) },
          'audit events could not be published',
        );
      },
    );
    this.inFlight.add(p);
    void p.finally(() => {
      this.unacknowledged -= drafts.length;
      auditUnacknowledged.dec(drafts.length);
      this.inFlight.delete(p);
    });
  }
}
