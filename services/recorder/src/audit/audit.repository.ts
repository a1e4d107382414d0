import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { GENESIS_HASH, linkHash } from '../integrity/chain';
import { partitionDayOf } from '../integrity/partition-day';

export interface ReceivedAuditEvent {
  id: string;
  /** The message exactly as it arrived: stored as is, so nothing is lost or reshaped. */
  raw: string;
  /** The event in RFC 8785 canonical form: what its link hashes. */
  canonical: string;
  offset: string;
}

export interface AppendResult {
  stored: number;
  /** Already stored by an earlier delivery of the same Kafka messages. */
  redelivered: number;
  /** Another message with an id already in the store (a producer's retry): not stored again. */
  duplicates: number;
}

/** The insert hit ids stored meanwhile; the batch is retried without them. */
class DuplicateIds extends Error {
  constructor(readonly ids: Set<string>) {
    super(`${ids.size} event ids already stored`);
  }
}

/** PostgreSQL's "no partition of relation found for row". */
function isMissingPartition(err: unknown): boolean {
  const code =
    (err as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (err as { code?: string }).code;
  return code === '23514' && /no partition/.test((err as Error).message);
}

interface HeadRow {
  seq: string;
  hash: Buffer;
  kafka_offset: string;
}

/**
 * Appends to the hash chains. A batch of one Kafka partition goes into that partition's chain
 * in one transaction: the chain head is locked, the events are linked after it, inserted in one
 * statement, and the head moves on. Messages at or before the head's Kafka offset were stored by
 * an earlier delivery and are skipped, so a redelivery neither doubles an event nor forks the chain.
 */
@Injectable()
export class AuditRepository {
  private readonly logger = new Logger(AuditRepository.name);
  private readonly knownPartitions = new Set<string>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async append(chain: number, batch: ReceivedAuditEvent[], lastOffset: string): Promise<AppendResult> {
    await this.ensurePartitions(batch);
    const skip = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction((tx) => this.appendOnce(tx, chain, batch, lastOffset, skip));
      } catch (err) {
        if (attempt >= 3) throw err;
        if (err instanceof DuplicateIds) {
          for (const id of err.ids) skip.add(id);
          this.logger.warn({ chain, ids: [...err.ids] }, 'events with ids already stored arrived again; kept once');
        } else if (isMissingPartition(err)) {
          // Retention dropped a day this process had made before: make it again.
          this.knownPartitions.clear();
          await this.ensurePartitions(batch);
        } else {
          throw err;
        }
      }
    }
  }

  private async appendOnce(
    tx: EntityManager,
    chain: number,
    batch: ReceivedAuditEvent[],
    lastOffset: string,
    skip: Set<string>,
  ): Promise<AppendResult> {
    const head = await this.lockHead(tx, chain);
    const after = BigInt(head.kafka_offset);
    const seen = new Set<string>(skip);
    const fresh: ReceivedAuditEvent[] = [];
    let redelivered = 0;
    for (const e of batch) {
      if (BigInt(e.offset) <= after) redelivered++;
      else if (!seen.has(e.id)) {
        seen.add(e.id);
        fresh.push(e);
      }
    }
    const duplicates = batch.length - redelivered - fresh.length;
    if (BigInt(lastOffset) <= after) return { stored: 0, redelivered, duplicates };

    let seq = BigInt(head.seq);
    let prev = head.hash;
    const seqs: string[] = [];
    const prevs: Buffer[] = [];
    const hashes: Buffer[] = [];
    for (const e of fresh) {
      const hash = linkHash(prev, e.canonical);
      seq++;
      seqs.push(seq.toString());
      prevs.push(prev);
      hashes.push(hash);
      prev = hash;
    }
    if (fresh.length > 0) {
      const inserted: { id: string }[] = await tx.query(
        `INSERT INTO audit_event (id, type, schema_version, time, session_id, request_id, actor_issuer, actor_subject,
                                  actor_groups, connection, protocol, source, event, chain, seq, prev_hash, hash,
                                  kafka_offset)
         SELECT (e->>'id')::uuid, e->>'type', (e->>'schemaVersion')::int, (e->>'time')::timestamptz,
                (e->>'sessionId')::uuid, (e->>'requestId')::uuid, e->'actor'->>'issuer', e->'actor'->>'subject',
                CASE WHEN jsonb_typeof(e->'actor') = 'object'
                     THEN ARRAY(SELECT jsonb_array_elements_text(e->'actor'->'groups')) END,
                e->>'connection', e->>'protocol', e->>'source', e, $2, l.seq, l.prev_hash, l.hash, l.kafka_offset
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n)
           JOIN unnest($3::bigint[], $4::bytea[], $5::bytea[], $6::bigint[]) WITH ORDINALITY
                AS l(seq, prev_hash, hash, kafka_offset, n) USING (n)
         ON CONFLICT (id) DO NOTHING
         RETURNING id`,
        [`[${fresh.map((e) => e.raw).join(',')}]`, chain, seqs, prevs, hashes, fresh.map((e) => e.offset)],
      );
      if (inserted.length !== fresh.length) {
        const stored = new Set(inserted.map((r) => r.id));
        throw new DuplicateIds(new Set(fresh.filter((e) => !stored.has(e.id)).map((e) => e.id)));
      }
    }
    await tx.query(
      `UPDATE audit_chain_head SET seq = $2, hash = $3, kafka_offset = $4, updated_at = now() WHERE chain = $1`,
      [chain, seq.toString(), prev, lastOffset],
    );
    return { stored: fresh.length, redelivered, duplicates };
  }

  private async lockHead(tx: EntityManager, chain: number): Promise<HeadRow> {
    const sql = 'SELECT seq, hash, kafka_offset FROM audit_chain_head WHERE chain = $1 FOR UPDATE';
    let rows: HeadRow[] = await tx.query(sql, [chain]);
    if (rows.length === 0) {
      await tx.query(
        `INSERT INTO audit_chain_head (chain, seq, hash, kafka_offset) VALUES ($1, 0, $2, -1) ON CONFLICT (chain) DO NOTHING`,
        [chain, GENESIS_HASH],
      );
      rows = await tx.query(sql, [chain]);
    }
    return rows[0];
  }

  /** Adds the day partitions the batch's ids fall in (the function makes them as the table owner). */
  private async ensurePartitions(batch: ReceivedAuditEvent[]): Promise<void> {
    const days = new Set<string>();
    for (const e of batch) {
      const day = partitionDayOf(e.id);
      if (!this.knownPartitions.has(day)) days.add(day);
    }
    for (const day of days) {
      await this.db.query('SELECT audit_ensure_partition($1::date)', [day]);
      this.knownPartitions.add(day);
    }
  }

  /** Forgets the partitions it made, after retention dropped some. */
  forgetPartitions(): void {
    this.knownPartitions.clear();
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
