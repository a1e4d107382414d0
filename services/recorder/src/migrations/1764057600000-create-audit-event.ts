import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuditEvent1764057600000 implements MigrationInterface {
  name = 'CreateAuditEvent1764057600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_event (
        id uuid PRIMARY KEY,
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
        event jsonb NOT NULL,
        kafka_partition int NOT NULL,
        kafka_offset bigint NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_event_session_time ON audit_event (session_id, time)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_event`);
  }
}
