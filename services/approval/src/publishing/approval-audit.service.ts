import { Inject, Injectable } from '@nestjs/common';
import type { AuditEvent, AuditEventDraft } from '@airlock/contracts';
import { AuditPublisher, KafkaProducer } from '@airlock/messaging';
import { CLOCK, type Clock } from '../clock';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';

/** The name every approval audit event carries in `source`. */
export const AUDIT_SOURCE = 'approval';

/** The approval service's audit trail on `airlock.audit`: every transition and every notification outcome. */
@Injectable()
export class ApprovalAudit {
  private readonly publisher: AuditPublisher;

  constructor(producer: KafkaProducer, @Inject(APPROVAL_CONFIG) config: ApprovalConfig, @Inject(CLOCK) clock: Clock) {
    this.publisher = new AuditPublisher(producer.producer, { timeoutMs: config.AUDIT_TIMEOUT_MS, clock });
  }

  /** Resolves once the broker has the events; rejects with a `MessagingError` otherwise. */
  emit(...drafts: AuditEventDraft[]): Promise<AuditEvent[]> {
    return this.publisher.emit(...drafts);
  }
}
