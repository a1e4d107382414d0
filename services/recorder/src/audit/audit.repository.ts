import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { GENESIS_HASH, linkHashHexAt } from '../integrity/chain';
import { partitionDayOf } from '../integrity/partition-day';
import { COPY_COLUMNS, CopyRows, copyData } from './copy-rows';
import { tallyOf, type ReceivedAuditEvent } from './received-events';
import { SessionTally, UPSERT_SESSIONS_SQL, upsertParams } from '../summaries/session-tally';

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

const COPY_SQL = `COPY audit_event (${COPY_COLUMNS.join(', ')}) FROM STDIN (FORMAT binary)`;

/**
 * The window's sessions' summaries (UPSERT_SESSIONS_SQL, $1) and the chain heads' move ($2–$5) in
 * one statement: either part may be empty.
 */
const SUMMARIES_AND_HEADS_SQL = `WITH sessions AS (${UPSERT_SESSIONS_SQL} RETURNING 1)
  UPDATE audit_chain_head h SET seq = v.seq, hash = v.hash, kafka_offset = v.kafka_offset, updated_at = now()
    FROM unnest($2::int[], $3::bigint[], $4::bytea[], $5::bigint[]) AS v(chain, seq, hash, kafka_offset)
   WHERE h.chain = v.chain`;

function pgCode(err: unknown): string | undefined {
  return (err as { driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
}

/** PostgreSQL's "no partition of relation found for row". */
function isMissingPartition(err: unknown): boolean {
  return pgCode(err) === '23514' && /no partition/.test((err as Error).message);
}

interface HeadRow {
  chain: number;
  seq: string;
  hash: Buffer;
  kafka_offset: string;
}

/** What one chain (one Kafka partition) adds in a transaction. */
export interface ChainAppend {
  chain: number;
  batch: ReceivedAuditEvent[];
  /** The last Kafka offset the batch covers, stored or not: where the head moves to. */
  lastOffset: string;
  /** The batch's first Kafka offset, stored or not. */
  firstOffset?: string;
  /** The batch's messages that are not stored (see AuditConsumer). */
  deadLetters?: DeadLetterRow[];
}

/** A chain's part of a transaction, linked after the head `basis`: its rows and what they add. */
interface LinkedChain {
  append: ChainAppend;
  /** The head it was linked after. */
  basis: HeadRow;
  /** The head it leaves: the basis itself when the whole batch was stored before. */
  after: HeadRow;
  result: AppendResult;
  deadLetters: DeadLetterRow[];
  /** Its binary COPY rows. */
  rows: Buffer[];
  tally: SessionTally;
}

/** Chains linked ahead of their transaction (see AuditRepository.prepare), by chain. */
export type PreparedLinks = ReadonlyMap<number, LinkedChain>;

const sameHead = (a: HeadRow, b: HeadRow): boolean =>
  a.seq === b.seq && a.kafka_offset === b.kafka_offset && a.hash.equals(b.hash);

const NO_SKIP: ReadonlySet<string> = new Set();

/**
 * Appends to the hash chains. Batches of several Kafka partitions go into their chains in one
 * transaction: the chain heads are locked (in chain order, so two writers never wait on each
 * other in a cycle), the events are linked after them, written with one COPY, and the heads move
 * on. Messages at or before a head's Kafka offset were stored by an earlier delivery and are
 * skipped, so a redelivery neither doubles an event nor forks a chain. An id stored before under
 * another offset (a producer's retry) makes the COPY fail on the primary key: the transaction is
 * then written again without it.
 *
 * A batch may be linked ahead of its transaction, while the one before it is still writing (see
 * prepare): that work is used only when the head read under the lock is exactly the one it was
 * linked after. Linking is a function of the head and the batch alone, so the rows are then
 * those that linking under the lock would give; otherwise the batch is linked again there.
 */
@Injectable()
export class AuditRepository {
  private readonly logger = new Logger(AuditRepository.name);
  private readonly knownPartitions = new Set<string>();
  /**
   * Each chain's head as the last transaction to link it will leave it (if that transaction
   * commits): what a batch is linked after ahead of its own transaction.
   */
  private readonly expectedHeads = new Map<number, HeadRow>();
  /** Chains whose link ahead was used, and those linked again under the lock because their head had moved. */
  readonly linkStats = { linkedAhead: 0, linkedAgain: 0 };

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** One chain's batch; see appendChains. */
  async append(
    chain: number,
    batch: ReceivedAuditEvent[],
    lastOffset: string,
    extra: { firstOffset?: string; deadLetters?: DeadLetterRow[] } = {},
  ): Promise<AppendResult> {
    const [result] = await this.appendChains([{ chain, batch, lastOffset, ...extra }]);
    return result;
  }

  /**
   * Links batches ahead of their transaction, after the heads the transaction that linked their
   * chains last will leave; a chain this process has not seen is left to be linked under the
   * lock. Yields between chains, so that a transaction in flight keeps its COPY flowing. The
   * caller prepares a window only once the window before it is linked (appendChains' `onLinked`).
   */
  async prepare(appends: ChainAppend[]): Promise<PreparedLinks> {
    const prepared = new Map<number, LinkedChain>();
    for (const a of appends) {
      const basis = this.expectedHeads.get(a.chain);
      if (basis === undefined) continue;
      await new Promise((resolve) => setImmediate(resolve));
      prepared.set(a.chain, this.link(a, basis, NO_SKIP));
    }
    return prepared;
  }

  /**
   * Appends the batches of several chains in one transaction; one result per batch, in order.
   * `prepared` are links made ahead (see prepare); `onLinked` is called once every chain is
   * linked in the transaction, before its rows are written.
   */
  async appendChains(
    appends: ChainAppend[],
    opts: { prepared?: PreparedLinks; onLinked?: () => void } = {},
  ): Promise<AppendResult[]> {
    const all = appends.flatMap((a) => a.batch);
    await this.ensurePartitions(all);
    const skip = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.inTransaction((client) => this.appendOnce(client, appends, skip, opts));
      } catch (err) {
        // What was expected of these chains is not so: linking ahead waits for their next lock.
        for (const a of appends) this.expectedHeads.delete(a.chain);
        if (attempt >= 3) throw err;
        if (pgCode(err) === '23505') {
          const stored = await this.storedIds(all.map((e) => e.id));
          if (stored.length === 0) throw err;
          for (const id of stored) skip.add(id);
          this.logger.warn(
            { chains: appends.map((a) => a.chain), ids: stored },
            'events with ids already stored arrived again; kept once',
          );
        } else if (isMissingPartition(err)) {
          // Retention dropped a day this process had made before: make it again.
          this.knownPartitions.clear();
          await this.ensurePartitions(all);
        } else {
          throw err;
        }
      }
    }
  }

  /**
   * Runs `work` in a transaction on a connection of its own. The statements go to the driver's
   * client directly: a window's transaction is on the audit path's hot loop, where each round
   * trip to PostgreSQL costs this process more than the rows it carries.
   */
  private async inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const pool = (this.db.driver as PostgresDriver).master as Pool;
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * One transaction in four round trips: BEGIN with the heads' lock, the COPY, the sessions'
   * summaries with the heads' move, and the commit (inTransaction).
   */
  private async appendOnce(
    client: PoolClient,
    appends: ChainAppend[],
    skip: Set<string>,
    opts: { prepared?: PreparedLinks; onLinked?: () => void },
  ): Promise<AppendResult[]> {
    const heads = await this.beginLockingHeads(
      client,
      appends.map((a) => a.chain),
    );
    const linked = appends.map((a) => {
      const head = heads.get(a.chain)!;
      this.reportGap(a, head);
      const ahead = skip.size === 0 ? opts.prepared?.get(a.chain) : undefined;
      if (ahead !== undefined && ahead.append === a && sameHead(ahead.basis, head)) {
        this.linkStats.linkedAhead++;
        return ahead;
      }
      if (ahead !== undefined) this.linkStats.linkedAgain++;
      return this.link(a, head, skip);
    });
    for (const l of linked) this.expectedHeads.set(l.append.chain, l.after);
    opts.onLinked?.();
    const deadLetters = linked.flatMap((l) => l.deadLetters.map((d) => ({ chain: l.append.chain, row: d })));
    if (deadLetters.length > 0) await this.recordDeadLetters(client, deadLetters);
    const chunks = copyData(linked.flatMap((l) => l.rows));
    if (chunks.length > 0) await pipeline(Readable.from(chunks), client.query(copyFrom(COPY_SQL)));
    const moved = linked.filter((l) => l.after !== l.basis).map((l) => l.after);
    const tally = SessionTally.merged(linked.map((l) => l.tally));
    // The sessions' summaries move with their events, and the heads with the chains.
    if (tally.size > 0 || moved.length > 0) {
      await client.query(SUMMARIES_AND_HEADS_SQL, [
        ...upsertParams(tally.deltas()),
        moved.map((m) => m.chain),
        moved.map((m) => m.seq),
        moved.map((m) => m.hash),
        moved.map((m) => m.kafka_offset),
      ]);
    }
    return linked.map((l) => l.result);
  }

  /**
   * Offsets of this topic have no holes: messages between the head and this batch were never
   * stored (or expired from Kafka before they could be). Says so loudly.
   */
  private reportGap(a: ChainAppend, head: HeadRow): void {
    const after = BigInt(head.kafka_offset);
    const first = a.firstOffset ?? a.batch[0]?.offset;
    if (after >= 0n && first !== undefined && BigInt(first) > after + 1n) {
      this.logger.error(
        { chain: a.chain, headOffset: after.toString(), batchOffset: first },
        'audit stream gap: messages before this batch are not in the store',
      );
    }
  }

  /**
   * Links one chain's batch after `head`: its COPY rows, what it adds to its sessions' summaries,
   * and the head it leaves. A function of the head, the batch and `skip` alone.
   */
  private link(a: ChainAppend, head: HeadRow, skip: ReadonlySet<string>): LinkedChain {
    const after = BigInt(head.kafka_offset);
    const seen = new Set<string>(skip);
    const fresh: ReceivedAuditEvent[] = [];
    let redelivered = 0;
    for (const e of a.batch) {
      if (BigInt(e.offset) <= after) redelivered++;
      else if (!seen.has(e.id)) {
        seen.add(e.id);
        fresh.push(e);
      }
    }
    const duplicates = a.batch.length - redelivered - fresh.length;
    if (BigInt(a.lastOffset) <= after) {
      const result = { stored: 0, deadLettered: 0, redelivered, duplicates };
      return { append: a, basis: head, after: head, result, deadLetters: [], rows: [], tally: new SessionTally() };
    }
    const deadLetters = (a.deadLetters ?? []).filter((d) => BigInt(d.offset) > after);
    const rows = new CopyRows();
    let seq = BigInt(head.seq);
    let prev = head.hash.toString('hex');
    for (const e of fresh) {
      const hash = linkHashHexAt(prev, e.linkBytes, e.linkAt, e.linkEnd);
      seq++;
      rows.row(e, a.chain, seq.toString(), prev, hash);
      prev = hash;
    }
    return {
      append: a,
      basis: head,
      after: { chain: a.chain, seq: seq.toString(), hash: Buffer.from(prev, 'hex'), kafka_offset: a.lastOffset },
      result: { stored: fresh.length, deadLettered: deadLetters.length, redelivered, duplicates },
      deadLetters,
      rows: rows.chunks(),
      tally: tallyOf(fresh),
    };
  }

  private async recordDeadLetters(client: PoolClient, rows: { chain: number; row: DeadLetterRow }[]): Promise<void> {
    const values: unknown[] = [];
    const tuples = rows.map(({ chain, row: d }, i) => {
      values.push(chain, d.offset, d.stage, d.reason, d.eventId ?? null, d.eventType ?? null, d.size, d.sha256);
      const p = i * 8;
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7}, $${p + 8})`;
    });
    await client.query(
      `INSERT INTO audit_deadletter (chain, kafka_offset, stage, reason, event_id, event_type, size, sha256)
       VALUES ${tuples.join(', ')} ON CONFLICT (chain, kafka_offset) DO NOTHING`,
      values,
    );
  }

  /**
   * Begins the transaction and locks the heads of the chains, in chain order, in one round trip
   * (a simple query: the chain numbers are the only values, integers checked here); the heads of
   * new chains are made first.
   */
  private async beginLockingHeads(client: PoolClient, chains: number[]): Promise<Map<number, HeadRow>> {
    for (const c of chains) if (!Number.isSafeInteger(c) || c < 0) throw new Error(`not a chain number: ${c}`);
    const select = `SELECT chain, seq, hash, kafka_offset FROM audit_chain_head WHERE chain IN (${chains.join(', ')}) ORDER BY chain FOR UPDATE`;
    const results = (await client.query(`BEGIN; ${select}`)) as unknown as QueryResult<HeadRow>[];
    let rows = results[1].rows;
    if (rows.length < new Set(chains).size) {
      await client.query(
        `INSERT INTO audit_chain_head (chain, seq, hash, kafka_offset)
         SELECT c, 0, $2, -1 FROM unnest($1::int[]) AS c ORDER BY c ON CONFLICT (chain) DO NOTHING`,
        [chains, GENESIS_HASH],
      );
      rows = (await client.query<HeadRow>(select)).rows;
    }
    return new Map(rows.map((r) => [Number(r.chain), { ...r, chain: Number(r.chain) }]));
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
