import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per session, kept by the recorder in the transaction that stores the session's events
 * (one upsert per batch), so that listing and searching sessions reads summaries instead of
 * adding events up. A summary is derived data, not evidence: it is not append-only (the events
 * are), and it can be rebuilt from them, as this migration does for the events already stored.
 */
export class AuditSessionSummary1796600000000 implements MigrationInterface {
  name = 'AuditSessionSummary1796600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_session (
        session_id uuid PRIMARY KEY,
        issuer text,
        subject text,
        connection text,
        protocol text NOT NULL,
        first_at timestamptz NOT NULL,
        last_at timestamptz NOT NULL,
        events bigint NOT NULL,
        operations bigint NOT NULL,
        allowed bigint NOT NULL,
        denied bigint NOT NULL,
        reviewed bigint NOT NULL,
        approved bigint NOT NULL,
        masked bigint NOT NULL
      ) WITH (fillfactor = 70)`);
    // Every batch updates its sessions' rows; room left in each page lets those updates stay on the
    // page without touching the indexes (HOT), as no indexed column changes once a session has begun.
    // Newest first, by start: the listing and every search read one of these backwards.
    await q.query(`CREATE INDEX audit_session_started ON audit_session (first_at, session_id)`);
    await q.query(`CREATE INDEX audit_session_subject ON audit_session (subject, first_at, session_id)`);
    await q.query(`CREATE INDEX audit_session_connection ON audit_session (connection, first_at, session_id)`);
    await q.query(`
      INSERT INTO audit_session
      SELECT session_id,
             (array_agg(actor_issuer ORDER BY seq) FILTER (WHERE actor_subject IS NOT NULL))[1],
             (array_agg(actor_subject ORDER BY seq) FILTER (WHERE actor_subject IS NOT NULL))[1],
             (array_agg(connection ORDER BY seq) FILTER (WHERE connection IS NOT NULL))[1],
             (array_agg(protocol ORDER BY seq))[1],
             min(time), max(time), count(*),
             count(*) FILTER (WHERE type = 'operation.intercepted'
               OR (type IN ('operation.completed', 'operation.failed', 'statement.completed', 'statement.failed')
                   AND event #> '{data,operation}' IS NOT NULL)),
             count(*) FILTER (WHERE decision = 'allow'),
             count(*) FILTER (WHERE decision = 'deny'),
             count(*) FILTER (WHERE decision = 'review'),
             count(*) FILTER (WHERE type = 'approval.changed' AND event #>> '{data,to}' = 'approved'),
             coalesce(sum(masked), 0)
        FROM (
          SELECT e.*,
                 CASE WHEN type = 'operation.decided' THEN event #>> '{data,decision}'
                      WHEN type IN ('statement.completed', 'statement.failed', 'operation.completed', 'operation.failed')
                        THEN event #>> '{data,decision,decision}'
                 END AS decision,
                 CASE WHEN type IN ('operation.completed', 'statement.completed')
                           AND json_typeof(event #> '{data,masked}') = 'object'
                      THEN (SELECT coalesce(sum(m.value::text::numeric), 0)
                              FROM json_each(event #> '{data,masked}') AS m
                             WHERE json_typeof(m.value) = 'number' AND m.value::text::numeric > 0)
                 END AS masked
            FROM audit_event e
        ) AS x
       GROUP BY session_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_session`);
  }
}
