import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApprovalNotifications1765100000000 implements MigrationInterface {
  name = 'CreateApprovalNotifications1765100000000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign key to the approvals: a record of a failed notification outlives nothing it
    // needs, and the notification workers stay independent of how approvals are stored.
    await q.query(`
      CREATE TABLE approval_notifications (
        approval_id uuid NOT NULL,
        channel text NOT NULL CHECK (channel IN ('slack', 'email')),
        state text NOT NULL CHECK (state IN ('delivered', 'failed')),
        attempts int NOT NULL CHECK (attempts > 0),
        reason text CHECK (char_length(reason) <= 500),
        audited boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (approval_id, channel)
      )`);
    await q.query(`CREATE INDEX approval_notifications_state ON approval_notifications (state, updated_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE approval_notifications`);
  }
}
