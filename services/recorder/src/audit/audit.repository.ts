import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DataSource, QueryRunner } from 'typeorm';
import type { AuditEvent } from '@airlock/contracts';
import { GENESIS_HASH, linkHash } from '../integrity/chain';
import { partitionDayOf } from '../integrity/partition-day';
import { COPY_COLUMNS, copyRow } from './copy-rows';

export interface ReceivedAuditEvent {
  /** The event as checked against its contract. */
  event: AuditEvent;
  /** The message exactly as it arrived: stored as is, so nothing is lost or reshaped. */
  raw: string;
  /** The event in RFC 8785 canonical form: what its link hashes. */
  canonical: string;
  offset: string;
}

/** A message of the partition that is not stored: recorded with the batch, past which the head moves. */
export interface DeadLetterRow {
  offset: string;
  stage: 'contract' | 'store';
  reason: string;
  eventId?: string;
  eventType?: string;
  size: number;
  sha256: Buffer;
}

export interface AppendResult {
  stored: number;
  /** Dead letters recorded (not counting those an earlier delivery recorded). */
  deadLettered: number;
  /** Already stored by an earlier delivery of the same Kafka messages. */
  redelivered: number;
  /** Another message with an id already in the store (a producer's retry): not stored again. */
  duplicates: number;
}

const COPY_SQL = `COPY audit_event (${COPY_COLUMNS.join(', ')}) FROM STDIN`;
/** COPY text is sent in pieces of about this size. */
const COPY_CHUNK = 256 * 1024;

function pgCode(err: unknown): string | undefined {
  return (err as { driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
}

/** PostgreSQL's "no partition of relation found for row". */
function isMissingPartition(err: unknown): boolean {
  return pgCode(err) === '23514' && /no partition/.test((err as Error).message);
}

interface HeadRow {
  seq: string;
  hash: Buffer;
  kafka_offset: string;
}

/**
 * Appends to the hash chains. A batch of one Kafka partition goes into that partition's chain
 * in one transaction: the chain head is locked, the events are linked after it, written with one
 * COPY, and the head moves on. Messages at or before the head's Kafka offset were stored by an
 * earlier delivery and are skipped, so a redelivery neither doubles an event nor forks the chain.
 * An id stored before under another offset (a producer's retry) makes the COPY fail on the
 * primary key: the batch is then written again without it.
 */
@Injectable()
export class AuditRepository {
  private readonly logger = new Logger(AuditRepository.name);
  private readonly knownPartitions = new Set<string>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * `deadLetters` are the batch's messages that are not stored (see AuditConsumer); `firstOffset`
   * is the batch's first Kafka offset, stored or not.
   */
  async append(
    chain: number,
    batch: ReceivedAuditEvent[],
    lastOffset: string,
    extra: { firstOffset?: string; deadLetters?: DeadLetterRow[] } = {},
  ): Promise<AppendResult> {
    await this.ensurePartitions(batch);
    const skip = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.inTransaction((qr, client) =>
          this.appendOnce(qr, client, chain, batch, lastOffset, skip, extra),
        );
      } catch (err) {
        if (attempt >= 3) throw err;
        if (pgCode(err) === '23505') {
          const stored = await this.storedIds(batch.map((e) => e.event.id));
          if (stored.length === 0) throw err;
          for (const id of stored) skip.add(id);
          this.logger.warn({ chain, ids: stored }, 'events with ids already stored arrived again; kept once');
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

  private async inTransaction<T>(work: (qr: QueryRunner, client: PoolClient) => Promise<T>): Promise<T> {
    const qr = this.db.createQueryRunner();
    const client = (await qr.connect()) as PoolClient;
    try {
      await qr.startTransaction();
      const result = await work(qr, client);
      await qr.commitTransaction();
      return result;
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await qr.release();
    }
  }

  private async appendOnce(
    qr: QueryRunner,
    client: PoolClient,
    chain: number,
    batch: ReceivedAuditEvent[],
    lastOffset: string,
    skip: Set<string>,
    extra: { firstOffset?: string; deadLetters?: DeadLetterRow[] },
  ): Promise<AppendResult> {
    const head = await this.lockHead(qr, chain);
    const after = BigInt(head.kafka_offset);
    const seen = new Set<string>(skip);
    const fresh: ReceivedAuditEvent[] = [];
    let redelivered = 0;
    for (const e of batch) {
      if (BigInt(e.offset) <= after) redelivered++;
      else if (!seen.has(e.event.id)) {
        seen.add(e.event.id);
        fresh.push(e);
      }
    }
    const duplicates = batch.length - redelivered - fresh.length;
    const first = extra.firstOffset ?? batch[0]?.offset;
    if (after >= 0n && first !== undefined && BigInt(first) > after + 1n) {
      // Offsets of this topic have no holes: messages between the head and this batch were
      // never stored (or expired from Kafka before they could be). Say so loudly.
      this.logger.error(
        { chain, headOffset: after.toString(), batchOffset: first },
        'audit stream gap: messages before this batch are not in the store',
      );
    }
    if (BigInt(lastOffset) <= after) return { stored: 0, deadLettered: 0, redelivered, duplicates };
    const deadLetters = (extra.deadLetters ?? []).filter((d) => BigInt(d.offset) > after);
    if (deadLetters.length > 0) await this.recordDeadLetters(qr, chain, deadLetters);

    let seq = BigInt(head.seq);
    let prev = head.hash;
    const chunks: string[] = [];
    let chunk = '';
    for (const e of fresh) {
      const hash = linkHash(prev, e.canonical);
      seq++;
      chunk += copyRow({
        event: e.event,
        raw: e.raw,
        chain,
        seq: seq.toString(),
        prevHash: prev,
        hash,
        offset: e.offset,
      });
      if (chunk.length >= COPY_CHUNK) {
        chunks.push(chunk);
        chunk = '';
      }
      prev = hash;
    }
    if (chunk.length > 0) chunks.push(chunk);
    if (chunks.length > 0) await pipeline(Readable.from(chunks), client.query(copyFrom(COPY_SQL)));
    await qr.query(
      `UPDATE audit_chain_head SET seq = $2, hash = $3, kafka_offset = $4, updated_at = now() WHERE chain = $1`,
      [chain, seq.toString(), prev, lastOffset],
    );
    return { stored: fresh.length, deadLettered: deadLetters.length, redelivered, duplicates };
  }

  private async recordDeadLetters(qr: QueryRunner, chain: number, rows: DeadLetterRow[]): Promise<void> {
    const values: unknown[] = [];
    const tuples = rows.map((d, i) => {
      values.push(chain, d.offset, d.stage, d.reason, d.eventId ?? null, d.eventType ?? null, d.size, d.sha256);
      const p = i * 8;
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7}, $${p + 8})`;
    });
    await qr.query(
      `INSERT INTO audit_deadletter (chain, kafka_offset, stage, reason, event_id, event_type, size, sha256)
       VALUES ${tuples.join(', ')} ON CONFLICT (chain, kafka_offset) DO NOTHING`,
      values,
    );
  }

  private async lockHead(qr: QueryRunner, chain: number): Promise<HeadRow> {
    const sql = 'SELECT seq, hash, kafka_offset FROM audit_chain_head WHERE chain = $1 FOR UPDATE';
    let rows = (await qr.query(sql, [chain])) as HeadRow[];
    if (rows.length === 0) {
      await qr.query(
        `INSERT INTO audit_chain_head (chain, seq, hash, kafka_offset) VALUES ($1, 0, $2, -1) ON CONFLICT (chain) DO NOTHING`,
        [chain, GENESIS_HASH],
      );
      rows = (await qr.query(sql, [chain])) as HeadRow[];
    }
    return rows[0];
  }

  private async storedIds(ids: string[]): Promise<string[]> {
    const rows = (await this.db.query('SELECT id FROM audit_event WHERE id = ANY($1::uuid[])', [ids])) as {
      id: string;
    }[];
    return rows.map((r) => r.id);
  }

  /** Adds the day partitions the batch's ids fall in (the function makes them as the table owner). */
  private async ensurePartitions(batch: ReceivedAuditEvent[]): Promise<void> {
    const days = new Set<string>();
    for (const e of batch) {
      const day = partitionDayOf(e.event.id);
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
