import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApprovals1796501681000 implements MigrationInterface {
  name = 'CreateApprovals1796501681000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE approvals (
        id uuid PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'cancelled', 'used')),
        requester_issuer text NOT NULL,
        requester_subject text NOT NULL,
        requester_groups text[] NOT NULL,
        connection text NOT NULL,
        protocol text NOT NULL CHECK (protocol IN ('http', 'postgres')),
        fingerprint text NOT NULL,
        session_id uuid NOT NULL,
        request_id uuid NOT NULL,
        rule_id text,
        reason text NOT NULL,
        detail text NOT NULL,
        approver_groups text[] NOT NULL CHECK (cardinality(approver_groups) > 0),
        required int NOT NULL CHECK (required > 0),
        grant_seconds int NOT NULL CHECK (grant_seconds >= 0),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        grant_until timestamptz,
        decided_at timestamptz,
        used_at timestamptz
      )`);
    // At most one pending approval per principal and exact operation, whoever asks at the same time.
    await q.query(`
      CREATE UNIQUE INDEX approvals_one_pending
        ON approvals (requester_issuer, requester_subject, connection, fingerprint)
        WHERE state = 'pending'`);
    // What a new request looks for: its operation's pending or approved approvals.
    await q.query(`
      CREATE INDEX approvals_live_by_operation
        ON approvals (requester_issuer, requester_subject, connection, fingerprint, created_at)
        WHERE state IN ('pending', 'approved')`);
    await q.query(`CREATE INDEX approvals_by_state ON approvals (state, created_at)`);
    await q.query(`
      CREATE TABLE approval_votes (
        approval_id uuid NOT NULL REFERENCES approvals (id),
        approver_issuer text NOT NULL,
        approver_subject text NOT NULL,
        decision text NOT NULL CHECK (decision IN ('approve', 'deny')),
        approver_groups text[] NOT NULL,
        comment text CHECK (char_length(comment) <= 2000),
        via text NOT NULL CHECK (via IN ('api', 'link')),
        decided_at timestamptz NOT NULL,
        PRIMARY KEY (approval_id, approver_issuer, approver_subject, decision)
      )`);
    await q.query(`
      CREATE TABLE approval_link_uses (
        jti text PRIMARY KEY,
        approval_id uuid NOT NULL REFERENCES approvals (id),
        used_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE approval_link_uses`);
    await q.query(`DROP TABLE approval_votes`);
    await q.query(`DROP TABLE approvals`);
  }
}
