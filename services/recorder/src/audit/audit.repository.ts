import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { AuditEvent } from '@airlock/contracts';
import { AuditEventEntity } from './audit-event.entity';

export interface ReceivedAuditEvent {
  event: AuditEvent;
  partition: number;
  offset: string;
}

@Injectable()
export class AuditRepository {
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /** Inserts a batch in one statement; an event id already stored (a redelivery) is skipped. */
  async insertBatch(batch: ReceivedAuditEvent[]): Promise<number> {
    if (batch.length === 0) return 0;
    const rows = batch.map(({ event: e, partition, offset }) => ({
      id: e.id,
      type: e.type,
      schemaVersion: e.schemaVersion,
      time: new Date(e.time),
      sessionId: e.sessionId,
      requestId: e.requestId,
      actorIssuer: e.actor?.issuer ?? null,
      actorSubject: e.actor?.subject ?? null,
      actorGroups: e.actor?.groups ?? null,
      connection: e.connection,
      protocol: e.protocol,
      source: e.source,
      event: e,
      kafkaPartition: partition,
      kafkaOffset: offset,
    }));
    // Bounded statements: PostgreSQL takes at most 65535 parameters in one.
    let inserted = 0;
    for (let i = 0; i < rows.length; i += 1000) {
      const result = await this.events
        .createQueryBuilder()
        .insert()
        .into(AuditEventEntity)
        .values(rows.slice(i, i + 1000))
        .orIgnore()
        .returning('id')
        .execute();
      inserted += (result.raw as unknown[]).length;
    }
    return inserted;
  }

  async ping(): Promise<void> {
    await this.events.query('SELECT 1');
  }
}
