import type { DataSource, EntityManager } from 'typeorm';
import type { CheckpointBody, CheckpointKind } from './checkpoint-signer';
import type { StoredLink } from './chain';

export interface StoredCheckpoint {
  body: CheckpointBody;
  signature: Buffer;
}

interface CheckpointRow {
  kind: CheckpointKind;
  chain: number;
  seq: string;
  hash: Buffer;
  created_at: Date;
  key_id: string;
  signature: Buffer;
  details: Record<string, unknown>;
}

/** Messages of airlock.audit the recorder did not store: they are on airlock.audit.deadletter. */
export interface DeadLetterSummary {
  count: number;
  latest: {
    chain: number;
    offset: string;
    stage: 'contract' | 'store';
    reason: string;
    eventId: string | null;
    eventType: string | null;
    recordedAt: string;
  }[];
}

type Queryable = Pick<DataSource | EntityManager, 'query'>;

function toCheckpoint(r: CheckpointRow): StoredCheckpoint {
  return {
    body: {
      kind: r.kind,
      chain: r.chain,
      seq: r.seq,
      hash: r.hash.toString('hex'),
      createdAt: r.created_at.toISOString(),
      keyId: r.key_id,
      details: r.details,
    },
    signature: r.signature,
  };
}

/**
 * Reads chains and reads and writes checkpoints. Plain SQL on whatever connection it is given:
 * the recorder's own in the service, either role in the command line.
 */
export class IntegrityRepository {
  constructor(private readonly db: Queryable) {}

  async chains(): Promise<number[]> {
    const rows: { chain: number }[] = await this.db.query(
      `SELECT chain FROM audit_chain_head UNION SELECT DISTINCT chain FROM audit_checkpoint ORDER BY 1`,
    );
    return rows.map((r) => r.chain);
  }

  async heads(): Promise<{ chain: number; seq: bigint; hash: Buffer }[]> {
    const rows: { chain: number; seq: string; hash: Buffer }[] = await this.db.query(
      `SELECT chain, seq, hash FROM audit_chain_head WHERE seq > 0 ORDER BY chain`,
    );
    return rows.map((r) => ({ chain: r.chain, seq: BigInt(r.seq), hash: r.hash }));
  }

  async firstLink(chain: number): Promise<{ seq: bigint; id: string } | undefined> {
    const rows: { seq: string; id: string }[] = await this.db.query(
      `SELECT seq, id FROM audit_event WHERE chain = $1 ORDER BY seq LIMIT 1`,
      [chain],
    );
    return rows[0] ? { seq: BigInt(rows[0].seq), id: rows[0].id } : undefined;
  }

  /** Links after `afterSeq`, in order. */
  async links(chain: number, afterSeq: bigint, limit: number): Promise<StoredLink[]> {
    const rows: { id: string; seq: string; prev_hash: Buffer; hash: Buffer; event: unknown }[] = await this.db.query(
      `SELECT id, seq, prev_hash, hash, event FROM audit_event WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [chain, afterSeq.toString(), limit],
    );
    return rows.map((r) => ({ id: r.id, seq: BigInt(r.seq), prevHash: r.prev_hash, hash: r.hash, event: r.event }));
  }

  async linkAt(chain: number, seq: bigint): Promise<{ id: string; hash: Buffer } | undefined> {
    const rows: { id: string; hash: Buffer }[] = await this.db.query(
      `SELECT id, hash FROM audit_event WHERE chain = $1 AND seq = $2 LIMIT 1`,
      [chain, seq.toString()],
    );
    return rows[0];
  }

  /** The latest head checkpoint of each chain. */
  /** How many messages were dead-lettered (of one chain, or all), and the latest of them. */
  async deadLetters(chain: number | undefined, latest: number): Promise<DeadLetterSummary> {
    const where = chain === undefined ? '' : 'WHERE chain = $1';
    const args = chain === undefined ? [] : [chain];
    const [{ n }]: { n: string }[] = await this.db.query(`SELECT count(*) AS n FROM audit_deadletter ${where}`, args);
    const rows: {
      chain: number;
      kafka_offset: string;
      stage: 'contract' | 'store';
      reason: string;
      event_id: string | null;
      event_type: string | null;
      recorded_at: Date;
    }[] = await this.db.query(
      `SELECT chain, kafka_offset, stage, reason, event_id, event_type, recorded_at FROM audit_deadletter ${where}
        ORDER BY recorded_at DESC, chain, kafka_offset DESC LIMIT ${Math.max(0, Math.floor(latest))}`,
      args,
    );
    return {
      count: Number(n),
      latest: rows.map((r) => ({
        chain: r.chain,
        offset: r.kafka_offset,
        stage: r.stage,
        reason: r.reason,
        eventId: r.event_id,
        eventType: r.event_type,
        recordedAt: r.recorded_at.toISOString(),
      })),
    };
  }

  async latestHeadCheckpoints(): Promise<StoredCheckpoint[]> {
    const rows: CheckpointRow[] = await this.db.query(
      `SELECT DISTINCT ON (chain) kind, chain, seq, hash, created_at, key_id, signature, details
         FROM audit_checkpoint WHERE kind = 'head' ORDER BY chain, seq DESC, id DESC`,
    );
    return rows.map(toCheckpoint);
  }

  async retentionCheckpoints(): Promise<StoredCheckpoint[]> {
    const rows: CheckpointRow[] = await this.db.query(
      `SELECT kind, chain, seq, hash, created_at, key_id, signature, details
         FROM audit_checkpoint WHERE kind = 'retention' ORDER BY chain, seq`,
    );
    return rows.map(toCheckpoint);
  }

  async insertCheckpoint(c: StoredCheckpoint): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_checkpoint (kind, chain, seq, hash, created_at, key_id, signature, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        c.body.kind,
        c.body.chain,
        c.body.seq,
        Buffer.from(c.body.hash, 'hex'),
        c.body.createdAt,
        c.body.keyId,
        c.signature,
        JSON.stringify(c.body.details),
      ],
    );
  }
}
