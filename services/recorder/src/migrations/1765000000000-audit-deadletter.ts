import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the recorder could not store: one row per Kafka message it dead-lettered, written in the
 * same transaction that moves the chain head past it, so the count is exact across redeliveries
 * and restarts. Append-only like the events; the message itself is on airlock.audit.deadletter.
 */
export class AuditDeadLetter1765000000000 implements MigrationInterface {
  name = 'AuditDeadLetter1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_deadletter (
        chain int NOT NULL,
        kafka_offset bigint NOT NULL,
        stage text NOT NULL CHECK (stage IN ('contract', 'store')),
        reason text NOT NULL,
        event_id text,
        event_type text,
        size int NOT NULL,
        sha256 bytea NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT audit_deadletter_pkey PRIMARY KEY (chain, kafka_offset)
      )`);
    await q.query(`CREATE INDEX audit_deadletter_recorded ON audit_deadletter (recorded_at)`);
    await q.query(`
      CREATE TRIGGER audit_deadletter_append_only BEFORE UPDATE OR DELETE ON audit_deadletter
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_deadletter_no_truncate BEFORE TRUNCATE ON audit_deadletter
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_deadletter`);
  }
}
