import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { AuditEvent } from '@airlock/contracts';
import { AuditEventEntity } from './audit-event.entity';

export interface ReceivedAuditEvent {
  /** The validated event. */
  event: AuditEvent;
  /** The message exactly as it arrived: stored as is, so nothing is lost or reshaped. */
  raw: string;
  partition: number;
  offset: string;
}

@Injectable()
export class AuditRepository {
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /**
   * Inserts a batch in one statement whatever its size. The events travel as one JSON array
   * (no per-value escaping) and PostgreSQL takes the columns apart; an event id already stored
   * (a redelivery) is skipped.
   */
  async insertBatch(batch: ReceivedAuditEvent[]): Promise<number> {
    if (batch.length === 0) return 0;
    const rows: { id: string }[] = await this.events.query(
      `INSERT INTO audit_event (id, type, schema_version, time, session_id, request_id, actor_issuer, actor_subject,
                                actor_groups, connection, protocol, source, event, kafka_partition, kafka_offset)
       SELECT (e->>'id')::uuid, e->>'type', (e->>'schemaVersion')::int, (e->>'time')::timestamptz,
              (e->>'sessionId')::uuid, (e->>'requestId')::uuid, e->'actor'->>'issuer', e->'actor'->>'subject',
              CASE WHEN jsonb_typeof(e->'actor') = 'object'
                   THEN ARRAY(SELECT jsonb_array_elements_text(e->'actor'->'groups')) END,
              e->>'connection', e->>'protocol', e->>'source', e, k.kafka_partition, k.kafka_offset
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n)
         JOIN unnest($2::int[], $3::bigint[]) WITH ORDINALITY AS k(kafka_partition, kafka_offset, n) USING (n)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [`[${batch.map((b) => b.raw).join(',')}]`, batch.map((b) => b.partition), batch.map((b) => b.offset)],
    );
    return rows.length;
  }

  async ping(): Promise<void> {
    await this.events.query('SELECT 1');
  }
}
