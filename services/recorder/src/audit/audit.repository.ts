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

  /**
   * Inserts a batch in one statement whatever its size: one array parameter per column,
   * expanded by unnest. An event id already stored (a redelivery) is skipped.
   */
  async insertBatch(batch: ReceivedAuditEvent[]): Promise<number> {
    if (batch.length === 0) return 0;
    const cols: unknown[][] = Array.from({ length: 15 }, () => []);
    for (const { event: e, partition, offset } of batch) {
      const values = [
        e.id,
        e.type,
        e.schemaVersion,
        e.time,
        e.sessionId,
        e.requestId,
        e.actor?.issuer ?? null,
        e.actor?.subject ?? null,
        // text[] cannot nest in an array parameter: groups travel as JSON and are unpacked in SQL.
        e.actor ? JSON.stringify(e.actor.groups) : null,
        e.connection,
        e.protocol,
        e.source,
        JSON.stringify(e),
        partition,
        offset,
      ];
      values.forEach((v, i) => cols[i].push(v));
    }
    const rows: { id: string }[] = await this.events.query(
      `INSERT INTO audit_event (id, type, schema_version, time, session_id, request_id, actor_issuer, actor_subject,
                                actor_groups, connection, protocol, source, event, kafka_partition, kafka_offset)
       SELECT id, type, schema_version, time, session_id, request_id, actor_issuer, actor_subject,
              CASE WHEN groups IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(groups)) END,
              connection, protocol, source, event, kafka_partition, kafka_offset
         FROM unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[], $5::uuid[], $6::uuid[], $7::text[], $8::text[],
                     $9::jsonb[], $10::text[], $11::text[], $12::text[], $13::jsonb[], $14::int[], $15::bigint[])
              AS t(id, type, schema_version, time, session_id, request_id, actor_issuer, actor_subject,
                   groups, connection, protocol, source, event, kafka_partition, kafka_offset)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      cols,
    );
    return rows.length;
  }

  async ping(): Promise<void> {
    await this.events.query('SELECT 1');
  }
}
