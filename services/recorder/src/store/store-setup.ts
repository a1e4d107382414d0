import type { DataSource } from 'typeorm';
import { quoteIdent } from './quote-ident';

/** The store cannot be used safely as configured; the message says what to change. */
export class StoreSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreSetupError';
  }
}

/**
 * As the owner: runs the migrations, then gives the recorder's role exactly what it needs:
 * INSERT and SELECT on the events and checkpoints, the chain heads it moves forward, and the
 * function that adds a day partition. Idempotent.
 */
export async function prepareStore(owner: DataSource, writerRole: string): Promise<void> {
  await owner.runMigrations({ transaction: 'each' });
  const [{ owner: ownerRole }]: { owner: string }[] = await owner.query('SELECT current_user AS owner');
  if (ownerRole === writerRole) {
    throw new StoreSetupError(
      `DATABASE_URL and DATABASE_OWNER_URL both connect as ${writerRole}: the recorder must write as a role that does not own the audit tables`,
    );
  }
  const role = quoteIdent(writerRole);
  await owner.transaction(async (tx) => {
    await tx.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await tx.query(`REVOKE ALL ON audit_event, audit_checkpoint, audit_deadletter FROM ${role}`);
    await tx.query(`GRANT SELECT, INSERT ON audit_event, audit_checkpoint, audit_deadletter TO ${role}`);
    await tx.query(`GRANT SELECT, INSERT, UPDATE ON audit_chain_head, audit_session TO ${role}`);
    await tx.query(`GRANT EXECUTE ON FUNCTION audit_ensure_partition(date) TO ${role}`);
  });
}

interface Rights {
  role: string;
  superuser: boolean;
  owner: boolean;
  can_change: boolean;
  can_append: boolean;
  can_move_heads: boolean;
  can_partition: boolean;
}

/**
 * As the recorder's role: refuses a role that could rewrite history (superuser, owner of the
 * table, or UPDATE/DELETE/TRUNCATE on events or checkpoints) and one that lacks what ingest needs.
 */
export async function checkWriterRights(writer: DataSource): Promise<void> {
  const [migrated]: { present: boolean }[] = await writer.query(
    `SELECT to_regclass('public.audit_event') IS NOT NULL AND to_regclass('public.audit_chain_head') IS NOT NULL
       AND to_regclass('public.audit_deadletter') IS NOT NULL AND to_regclass('public.audit_session') IS NOT NULL
       AS present`,
  );
  if (!migrated.present) {
    throw new StoreSetupError(
      'the audit store is not set up in this database: set DATABASE_OWNER_URL or run the recorder migrate command',
    );
  }
  const [r]: Rights[] = await writer.query(`
    SELECT current_user AS role, r.rolsuper AS superuser,
           pg_has_role(current_user, c.relowner, 'MEMBER') AS owner,
           has_table_privilege('audit_event', 'UPDATE') OR has_table_privilege('audit_event', 'DELETE')
             OR has_table_privilege('audit_event', 'TRUNCATE') OR has_table_privilege('audit_checkpoint', 'UPDATE')
             OR has_table_privilege('audit_checkpoint', 'DELETE') OR has_table_privilege('audit_checkpoint', 'TRUNCATE')
             OR has_table_privilege('audit_deadletter', 'UPDATE') OR has_table_privilege('audit_deadletter', 'DELETE')
             OR has_table_privilege('audit_deadletter', 'TRUNCATE')
             AS can_change,
           has_table_privilege('audit_event', 'INSERT') AND has_table_privilege('audit_event', 'SELECT') AND has_table_privilege('audit_checkpoint', 'INSERT')
             AND has_table_privilege('audit_checkpoint', 'SELECT') AND has_table_privilege('audit_deadletter', 'INSERT')
             AND has_table_privilege('audit_deadletter', 'SELECT') AS can_append,
           has_table_privilege('audit_chain_head', 'SELECT') AND has_table_privilege('audit_chain_head', 'INSERT')
             AND has_table_privilege('audit_chain_head', 'UPDATE') AND has_table_privilege('audit_session', 'SELECT')
             AND has_table_privilege('audit_session', 'INSERT') AND has_table_privilege('audit_session', 'UPDATE')
             AS can_move_heads,
           has_function_privilege('audit_ensure_partition(date)', 'EXECUTE') AS can_partition
      FROM pg_roles r, pg_class c
     WHERE r.rolname = current_user AND c.oid = 'public.audit_event'::regclass`);
  if (r.superuser || r.owner || r.can_change) {
    throw new StoreSetupError(
      `the recorder connects as ${r.role}, which could change or delete audit records; connect DATABASE_URL as a role with only INSERT and SELECT on them`,
    );
  }
  if (!r.can_append || !r.can_move_heads || !r.can_partition) {
    throw new StoreSetupError(
      `the recorder's role ${r.role} lacks rights on the audit store; set DATABASE_OWNER_URL or run the recorder migrate command to grant them`,
    );
  }
}
