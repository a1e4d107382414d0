import type { MigrationInterface, QueryRunner } from 'typeorm';
import { GENESIS_HASH, eventHash } from '../integrity/chain';

/**
 * The tamper-evident, append-only store:
 *
 * - `audit_event` is partitioned by range of its UUIDv7 id, one partition per UTC day, so the id
 *   stays the primary key (a redelivery is a no-op) and retention drops whole days.
 * - Every row carries its chain (the Kafka partition), sequence number, previous hash and hash.
 * - The event is kept as \`json\`, the text exactly as it arrived (and cheaper to write than jsonb).
 * - Triggers refuse UPDATE, DELETE and TRUNCATE on the events and the checkpoints, whoever asks;
 *   the recorder's own role is moreover granted only INSERT and SELECT (see `grantWriter`).
 * - Partitions are made by `audit_ensure_partition`, which runs with the owner's rights so the
 *   recorder can add a day without owning the table; it can only create, never drop.
 *
 * Rows of the earlier, unchained table are moved over and chained in Kafka order.
 */
export class ChainedPartitionedAudit1764072000000 implements MigrationInterface {
  name = 'ChainedPartitionedAudit1764072000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_event RENAME TO audit_event_unchained`);
    await q.query(`ALTER INDEX audit_event_pkey RENAME TO audit_event_unchained_pkey`);
    await q.query(`DROP INDEX audit_event_session_time`);

    await q.query(`
      CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit records are append-only: % on % is refused', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);

    // The first 48 bits of a UUIDv7 are Unix milliseconds: the smallest id of an instant.
    await q.query(`
      CREATE FUNCTION audit_uuid_floor(t timestamptz) RETURNS uuid LANGUAGE sql IMMUTABLE STRICT AS $$
        SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-0000-0000-000000000000')::uuid
          FROM (SELECT lpad(to_hex(floor(extract(epoch FROM t) * 1000)::bigint), 12, '0') AS h) AS x
      $$`);

    await q.query(`
      CREATE FUNCTION audit_uuid_time(id uuid) RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT AS $$
        SELECT to_timestamp(('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint / 1000.0)
      $$`);

    await q.query(`
      CREATE TABLE audit_event (
        id uuid NOT NULL,
        type text NOT NULL,
        schema_version int NOT NULL,
        time timestamptz NOT NULL,
        session_id uuid NOT NULL,
        request_id uuid NOT NULL,
        actor_issuer text,
        actor_subject text,
        actor_groups text[],
        connection text,
        protocol text NOT NULL,
        source text NOT NULL,
        event json NOT NULL,
        chain int NOT NULL,
        seq bigint NOT NULL,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        kafka_offset bigint NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT audit_event_pkey PRIMARY KEY (id)
      ) PARTITION BY RANGE (id)`);
    await q.query(`CREATE INDEX audit_event_chain_seq ON audit_event (chain, seq)`);
    await q.query(`CREATE INDEX audit_event_session ON audit_event (session_id, seq)`);
    await q.query(`
      CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`);

    // Creates the partition of one UTC day (and its own TRUNCATE guard: a statement trigger on
    // the parent does not fire for a partition truncated by name). Idempotent and serialised.
    await q.query(`
      CREATE FUNCTION audit_ensure_partition(day date) RETURNS text
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      DECLARE
        part text := 'audit_event_' || to_char(day, 'YYYYMMDD');
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('audit_ensure_partition'));
        IF to_regclass('public.' || part) IS NULL THEN
          EXECUTE format('CREATE TABLE public.%I PARTITION OF public.audit_event FOR VALUES FROM (%L) TO (%L)',
                         part, audit_uuid_floor(day::timestamp AT TIME ZONE 'UTC'),
                         audit_uuid_floor((day + 1)::timestamp AT TIME ZONE 'UTC'));
          EXECUTE format('CREATE TRIGGER audit_partition_no_truncate BEFORE TRUNCATE ON public.%I
                            FOR EACH STATEMENT EXECUTE FUNCTION public.audit_refuse_change()', part);
        END IF;
        RETURN part;
      END $$`);
    await q.query(`REVOKE EXECUTE ON FUNCTION audit_ensure_partition(date) FROM PUBLIC`);

    // Where each chain stands; rewritten by every batch, under a row lock that serialises writers.
    await q.query(`
      CREATE TABLE audit_chain_head (
        chain int PRIMARY KEY,
        seq bigint NOT NULL,
        hash bytea NOT NULL,
        kafka_offset bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE audit_checkpoint (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('head', 'retention')),
        chain int NOT NULL,
        seq bigint NOT NULL,
        hash bytea NOT NULL,
        created_at timestamptz NOT NULL,
        key_id text NOT NULL,
        signature bytea NOT NULL,
        details jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX audit_checkpoint_chain ON audit_checkpoint (chain, kind, seq)`);
    await q.query(`
      CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`);

    await this.chainEarlierRows(q);
    await q.query(`DROP TABLE audit_event_unchained`);
  }

  /** Moves the unchained rows over, chained per Kafka partition in offset order. */
  private async chainEarlierRows(q: QueryRunner): Promise<void> {
    // The id, not the event time, decides the partition.
    const days: { day: string }[] = await q.query(
      `SELECT DISTINCT to_char((audit_uuid_time(id) AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day
         FROM audit_event_unchained`,
    );
    for (const { day } of days) await q.query(`SELECT audit_ensure_partition($1::date)`, [day]);

    // Read in Kafka order a page at a time: without this index every page would scan the table.
    await q.query(`CREATE INDEX audit_event_unchained_order ON audit_event_unchained (kafka_partition, kafka_offset)`);
    const chains: { chain: number }[] = await q.query(
      `SELECT DISTINCT kafka_partition AS chain FROM audit_event_unchained ORDER BY 1`,
    );
    for (const { chain } of chains) {
      let prev: Buffer = GENESIS_HASH;
      let seq = 0n;
      let after = -1n;
      for (;;) {
        const rows: { id: string; event: unknown; kafka_offset: string }[] = await q.query(
          `SELECT id, event, kafka_offset FROM audit_event_unchained
            WHERE kafka_partition = $1 AND kafka_offset > $2 ORDER BY kafka_offset LIMIT 10000`,
          [chain, after.toString()],
        );
        if (rows.length === 0) break;
        const ids: string[] = [];
        const seqs: string[] = [];
        const prevs: Buffer[] = [];
        const hashes: Buffer[] = [];
        for (const r of rows) {
          seq++;
          const hash = eventHash(prev, r.event);
          ids.push(r.id);
          seqs.push(seq.toString());
          prevs.push(prev);
          hashes.push(hash);
          prev = hash;
          after = BigInt(r.kafka_offset);
        }
        await q.query(
          `INSERT INTO audit_event (id, type, schema_version, time, session_id, request_id, actor_issuer, actor_subject,
                                    actor_groups, connection, protocol, source, event, chain, seq, prev_hash, hash,
                                    kafka_offset, recorded_at)
           SELECT u.id, u.type, u.schema_version, u.time, u.session_id, u.request_id, u.actor_issuer, u.actor_subject,
                  u.actor_groups, u.connection, u.protocol, u.source, u.event::json, u.kafka_partition, l.seq, l.prev_hash,
                  l.hash, u.kafka_offset, u.recorded_at
             FROM unnest($1::uuid[], $2::bigint[], $3::bytea[], $4::bytea[]) AS l(id, seq, prev_hash, hash)
             JOIN audit_event_unchained u USING (id)`,
          [ids, seqs, prevs, hashes],
        );
      }
      if (seq > 0n) {
        await q.query(`INSERT INTO audit_chain_head (chain, seq, hash, kafka_offset) VALUES ($1, $2, $3, $4)`, [
          chain,
          seq.toString(),
          prev,
          after.toString(),
        ]);
      }
    }
  }

  async down(): Promise<void> {
    throw new Error('the chained audit store cannot be migrated down: that would break its hash chains');
  }
}
