import { Inject, Injectable } from '@nestjs/common';
import type { AuditEvent, AuditEventDraft } from '@airlock/contracts';
import { AuditPublisher, KafkaProducer } from '@airlock/messaging';
import { CLOCK, type Clock } from '../clock';
import { VAULT_CONFIG, type VaultStoreConfig } from '../config';

/** The name every vault audit event carries in `source`. */
export const AUDIT_SOURCE = 'credential-vault';

/** The vault's audit trail on `airlock.audit`. Events describe what happened, never secret material. */
@Injectable()
export class VaultAudit {
  private readonly publisher: AuditPublisher;

  constructor(producer: KafkaProducer, @Inject(VAULT_CONFIG) config: VaultStoreConfig, @Inject(CLOCK) clock: Clock) {
    this.publisher = new AuditPublisher(producer.producer, { timeoutMs: config.AUDIT_TIMEOUT_MS, clock });
  }

  /** Resolves once the broker has the events; rejects with a `MessagingError` otherwise, and the caller fails closed. */
  emit(...drafts: AuditEventDraft[]): Promise<AuditEvent[]> {
    return this.publisher.emit(...drafts);
  }
}
