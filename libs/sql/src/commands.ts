import type {
  AlterOwnerStmt,
  AlterTableStmt,
  ClosePortalStmt,
  CopyStmt,
  CreateFunctionStmt,
  CreateTableAsStmt,
  DeallocateStmt,
  DefineStmt,
  DiscardStmt,
  DropStmt,
  FetchStmt,
  GrantRoleStmt,
  GrantStmt,
  ObjectType,
  RenameStmt,
  SelectStmt,
  TransactionStmt,
  UpdateStmt,
  VacuumStmt,
  VariableSetStmt,
} from 'libpg-query';
import type { SqlClass, SqlRisk } from '@airlock/contracts';

/** Order of strictness: a statement takes the strictest class of everything it does. */
const CLASS_RANK: Record<SqlClass, number> = {
  read: 0,
  session: 1,
  transaction: 2,
  write: 3,
  ddl: 4,
  dcl: 5,
  admin: 6,
};

export function stricterClass(a: SqlClass, b: SqlClass): SqlClass {
  return CLASS_RANK[b] > CLASS_RANK[a] ? b : a;
}

/** What a statement is by itself, before anything nested in it is looked at. */
export interface StatementKind {
  command: string;
  class: SqlClass;
  risks: SqlRisk[];
}

export type AstFields = Record<string, unknown>;

/** Statements that change rows: inside a query they are writes hidden in it. */
export const DATA_MODIFYING = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/** GUCs whose change switches the identity the session's privileges come from. */
export const ROLE_SETTINGS = new Set(['role', 'session_authorization']);

/**
 * GUCs that change how the server reads the text of later statements. With
 * standard_conforming_strings off, '\' || '; DROP TABLE t; --' is one string to the gateway's
 * parser and a DROP TABLE to the server; a client encoding other than the one the gateway decodes
 * with does the same through multibyte characters. Changing them is server administration.
 */
export const LEXER_SETTINGS = new Set(['standard_conforming_strings', 'client_encoding']);

const ADMIN_OBJECTS = new Set<ObjectType>([
  'OBJECT_DATABASE',
  'OBJECT_TABLESPACE',
  'OBJECT_EXTENSION',
  'OBJECT_FDW',
  'OBJECT_FOREIGN_SERVER',
  'OBJECT_USER_MAPPING',
  'OBJECT_EVENT_TRIGGER',
  'OBJECT_LANGUAGE',
  'OBJECT_ACCESS_METHOD',
  'OBJECT_PUBLICATION',
  'OBJECT_PUBLICATION_NAMESPACE',
  'OBJECT_PUBLICATION_REL',
  'OBJECT_SUBSCRIPTION',
]);
const DCL_OBJECTS = new Set<ObjectType>(['OBJECT_ROLE', 'OBJECT_PARAMETER_ACL', 'OBJECT_DEFACL']);

function objectClass(type: ObjectType | undefined): SqlClass {
  if (type && ADMIN_OBJECTS.has(type)) return 'admin';
  if (type && DCL_OBJECTS.has(type)) return 'dcl';
  return 'ddl';
}

const OBJECT_WORDS: Partial<Record<ObjectType, string>> = {
  OBJECT_MATVIEW: 'MATERIALIZED VIEW',
  OBJECT_FDW: 'FOREIGN DATA WRAPPER',
  OBJECT_FOREIGN_SERVER: 'SERVER',
  OBJECT_TSCONFIGURATION: 'TEXT SEARCH CONFIGURATION',
  OBJECT_TSDICTIONARY: 'TEXT SEARCH DICTIONARY',
  OBJECT_TSPARSER: 'TEXT SEARCH PARSER',
  OBJECT_TSTEMPLATE: 'TEXT SEARCH TEMPLATE',
  OBJECT_STATISTIC_EXT: 'STATISTICS',
  OBJECT_OPCLASS: 'OPERATOR CLASS',
  OBJECT_OPFAMILY: 'OPERATOR FAMILY',
  OBJECT_AMOP: 'OPERATOR FAMILY',
  OBJECT_AMPROC: 'OPERATOR FAMILY',
  OBJECT_DOMCONSTRAINT: 'DOMAIN',
  OBJECT_TABCONSTRAINT: 'TABLE',
  OBJECT_COLUMN: 'TABLE',
  OBJECT_DEFAULT: 'TABLE',
  OBJECT_ATTRIBUTE: 'TYPE',
  OBJECT_PUBLICATION_NAMESPACE: 'PUBLICATION',
  OBJECT_PUBLICATION_REL: 'PUBLICATION',
  OBJECT_PARAMETER_ACL: 'PARAMETER',
  OBJECT_DEFACL: 'DEFAULT PRIVILEGES',
};

/** "OBJECT_FOREIGN_TABLE" → "FOREIGN TABLE", with PostgreSQL's own words where they differ. */
function objectWords(type: ObjectType | undefined): string {
  if (!type) return 'OBJECT';
  return OBJECT_WORDS[type] ?? type.replace('OBJECT_', '').split('_').join(' ');
}

function kind(command: string, cls: SqlClass, ...risks: SqlRisk[]): StatementKind {
  return { command, class: cls, risks };
}

const TRANSACTION_COMMANDS: Record<NonNullable<TransactionStmt['kind']>, string> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

/** Statements whose command and class depend on nothing but their node type. */
const FIXED: Record<string, [string, SqlClass]> = {
  InsertStmt: ['INSERT', 'write'],
  MergeStmt: ['MERGE', 'write'],
  // Takes locks other sessions wait on, and the strong modes need write privileges.
  LockStmt: ['LOCK TABLE', 'write'],
  ExplainStmt: ['EXPLAIN', 'read'],
  // Only nested in function bodies.
  ReturnStmt: ['RETURN', 'read'],
  PLAssignStmt: ['LET', 'read'],
  VariableShowStmt: ['SHOW', 'session'],
  ListenStmt: ['LISTEN', 'session'],
  UnlistenStmt: ['UNLISTEN', 'session'],
  NotifyStmt: ['NOTIFY', 'session'],
  PrepareStmt: ['PREPARE', 'session'],
  DeclareCursorStmt: ['DECLARE CURSOR', 'session'],
  ConstraintsSetStmt: ['SET CONSTRAINTS', 'transaction'],
  CreateStmt: ['CREATE TABLE', 'ddl'],
  CreateForeignTableStmt: ['CREATE FOREIGN TABLE', 'ddl'],
  AlterTableMoveAllStmt: ['ALTER TABLE', 'ddl'],
  IndexStmt: ['CREATE INDEX', 'ddl'],
  ViewStmt: ['CREATE VIEW', 'ddl'],
  CreateSeqStmt: ['CREATE SEQUENCE', 'ddl'],
  AlterSeqStmt: ['ALTER SEQUENCE', 'ddl'],
  CreateSchemaStmt: ['CREATE SCHEMA', 'ddl'],
  CreateDomainStmt: ['CREATE DOMAIN', 'ddl'],
  AlterDomainStmt: ['ALTER DOMAIN', 'ddl'],
  CompositeTypeStmt: ['CREATE TYPE', 'ddl'],
  CreateEnumStmt: ['CREATE TYPE', 'ddl'],
  CreateRangeStmt: ['CREATE TYPE', 'ddl'],
  AlterEnumStmt: ['ALTER TYPE', 'ddl'],
  AlterTypeStmt: ['ALTER TYPE', 'ddl'],
  CreateTrigStmt: ['CREATE TRIGGER', 'ddl'],
  RuleStmt: ['CREATE RULE', 'ddl'],
  CreatePolicyStmt: ['CREATE POLICY', 'ddl'],
  AlterPolicyStmt: ['ALTER POLICY', 'ddl'],
  CreateOpClassStmt: ['CREATE OPERATOR CLASS', 'ddl'],
  CreateOpFamilyStmt: ['CREATE OPERATOR FAMILY', 'ddl'],
  AlterOpFamilyStmt: ['ALTER OPERATOR FAMILY', 'ddl'],
  AlterOperatorStmt: ['ALTER OPERATOR', 'ddl'],
  CreateCastStmt: ['CREATE CAST', 'ddl'],
  CreateConversionStmt: ['CREATE CONVERSION', 'ddl'],
  CreateTransformStmt: ['CREATE TRANSFORM', 'ddl'],
  CreateStatsStmt: ['CREATE STATISTICS', 'ddl'],
  AlterStatsStmt: ['ALTER STATISTICS', 'ddl'],
  AlterCollationStmt: ['ALTER COLLATION', 'ddl'],
  AlterTSDictionaryStmt: ['ALTER TEXT SEARCH DICTIONARY', 'ddl'],
  AlterTSConfigurationStmt: ['ALTER TEXT SEARCH CONFIGURATION', 'ddl'],
  CommentStmt: ['COMMENT', 'ddl'],
  SecLabelStmt: ['SECURITY LABEL', 'ddl'],
  RefreshMatViewStmt: ['REFRESH MATERIALIZED VIEW', 'ddl'],
  ImportForeignSchemaStmt: ['IMPORT FOREIGN SCHEMA', 'ddl'],
  AlterDefaultPrivilegesStmt: ['ALTER DEFAULT PRIVILEGES', 'dcl'],
  CreateRoleStmt: ['CREATE ROLE', 'dcl'],
  AlterRoleStmt: ['ALTER ROLE', 'dcl'],
  AlterRoleSetStmt: ['ALTER ROLE', 'dcl'],
  DropRoleStmt: ['DROP ROLE', 'dcl'],
  DropOwnedStmt: ['DROP OWNED', 'dcl'],
  ReassignOwnedStmt: ['REASSIGN OWNED', 'dcl'],
  ClusterStmt: ['CLUSTER', 'admin'],
  ReindexStmt: ['REINDEX', 'admin'],
  CheckPointStmt: ['CHECKPOINT', 'admin'],
  AlterSystemStmt: ['ALTER SYSTEM', 'admin'],
  LoadStmt: ['LOAD', 'admin'],
  CreatedbStmt: ['CREATE DATABASE', 'admin'],
  DropdbStmt: ['DROP DATABASE', 'admin'],
  AlterDatabaseStmt: ['ALTER DATABASE', 'admin'],
  AlterDatabaseSetStmt: ['ALTER DATABASE', 'admin'],
  AlterDatabaseRefreshCollStmt: ['ALTER DATABASE', 'admin'],
  CreateTableSpaceStmt: ['CREATE TABLESPACE', 'admin'],
  DropTableSpaceStmt: ['DROP TABLESPACE', 'admin'],
  AlterTableSpaceOptionsStmt: ['ALTER TABLESPACE', 'admin'],
  CreateExtensionStmt: ['CREATE EXTENSION', 'admin'],
  AlterExtensionStmt: ['ALTER EXTENSION', 'admin'],
  AlterExtensionContentsStmt: ['ALTER EXTENSION', 'admin'],
  CreateFdwStmt: ['CREATE FOREIGN DATA WRAPPER', 'admin'],
  AlterFdwStmt: ['ALTER FOREIGN DATA WRAPPER', 'admin'],
  CreateForeignServerStmt: ['CREATE SERVER', 'admin'],
  AlterForeignServerStmt: ['ALTER SERVER', 'admin'],
  CreateUserMappingStmt: ['CREATE USER MAPPING', 'admin'],
  AlterUserMappingStmt: ['ALTER USER MAPPING', 'admin'],
  DropUserMappingStmt: ['DROP USER MAPPING', 'admin'],
  CreateEventTrigStmt: ['CREATE EVENT TRIGGER', 'admin'],
  AlterEventTrigStmt: ['ALTER EVENT TRIGGER', 'admin'],
  CreatePLangStmt: ['CREATE LANGUAGE', 'admin'],
  CreateAmStmt: ['CREATE ACCESS METHOD', 'admin'],
  CreatePublicationStmt: ['CREATE PUBLICATION', 'admin'],
  AlterPublicationStmt: ['ALTER PUBLICATION', 'admin'],
  CreateSubscriptionStmt: ['CREATE SUBSCRIPTION', 'admin'],
  AlterSubscriptionStmt: ['ALTER SUBSCRIPTION', 'admin'],
  DropSubscriptionStmt: ['DROP SUBSCRIPTION', 'admin'],
};

/**
 * The command tag (as PostgreSQL's CommandComplete names it, where it names one), class and
 * own risks of a statement node. A node type this table does not know is refused as
 * administration: a parser upgrade must not let a new statement through as a read.
 */
export function statementKind(type: string, body: AstFields): StatementKind {
  const fixed = FIXED[type];
  if (fixed) return kind(fixed[0], fixed[1]);
  switch (type) {
    case 'SelectStmt': {
      const s = body as SelectStmt;
      if (s.intoClause) return kind('SELECT INTO', 'ddl', 'hidden-write');
      // FOR UPDATE/SHARE writes row locks and needs UPDATE privilege.
      if (s.lockingClause?.length) return kind('SELECT', 'write');
      return kind('SELECT', 'read');
    }
    // Empties whole tables: the most unbounded write there is.
    case 'TruncateStmt':
      return kind('TRUNCATE TABLE', 'write', 'write-without-where');
    case 'UpdateStmt':
    case 'DeleteStmt': {
      // WHERE CURRENT OF is a WHERE clause too: it touches the cursor's current row only.
      const unbounded = (body as UpdateStmt).whereClause === undefined;
      const command = type === 'UpdateStmt' ? 'UPDATE' : 'DELETE';
      return unbounded ? kind(command, 'write', 'write-without-where') : kind(command, 'write');
    }
    case 'CopyStmt': {
      const c = body as CopyStmt;
      if (c.is_program) return kind('COPY', 'admin', 'server-program');
      if (c.filename !== undefined) return kind('COPY', 'admin', 'server-file');
      return kind('COPY', c.is_from ? 'write' : 'read');
    }
    case 'CreateTableAsStmt': {
      const c = body as CreateTableAsStmt;
      const command = c.is_select_into
        ? 'SELECT INTO'
        : c.objtype === 'OBJECT_MATVIEW'
          ? 'CREATE MATERIALIZED VIEW'
          : 'CREATE TABLE AS';
      return kind(command, 'ddl', 'hidden-write');
    }
    case 'DoStmt':
      return kind('DO', 'write', 'procedural-code', 'hidden-write');
    case 'CallStmt':
      return kind('CALL', 'write', 'hidden-write');
    // The statement it runs was judged when it was prepared, but that may have been on other terms.
    case 'ExecuteStmt':
      return kind('EXECUTE', 'write', 'hidden-write');
    case 'CreateFunctionStmt':
      return kind(
        (body as CreateFunctionStmt).is_procedure ? 'CREATE PROCEDURE' : 'CREATE FUNCTION',
        'ddl',
        'procedural-code',
      );
    case 'AlterFunctionStmt':
      return kind(`ALTER ${objectWords((body as { objtype?: ObjectType }).objtype)}`, 'ddl');
    case 'DefineStmt':
      return kind(`CREATE ${objectWords((body as DefineStmt).kind)}`, 'ddl');
    case 'AlterTableStmt': {
      const a = body as AlterTableStmt;
      const ownerChange = (a.cmds ?? []).some(
        (c) => 'AlterTableCmd' in c && c.AlterTableCmd.subtype === 'AT_ChangeOwner',
      );
      return kind(`ALTER ${objectWords(a.objtype ?? 'OBJECT_TABLE')}`, ownerChange ? 'dcl' : 'ddl');
    }
    case 'DropStmt': {
      const d = body as DropStmt;
      return kind(`DROP ${objectWords(d.removeType)}`, objectClass(d.removeType));
    }
    case 'RenameStmt': {
      const r = body as RenameStmt;
      // Renaming a column or constraint alters the relation that holds it.
      const sub = r.renameType === 'OBJECT_COLUMN' || r.renameType === 'OBJECT_TABCONSTRAINT';
      const target = sub && r.relationType ? r.relationType : r.renameType;
      return kind(`ALTER ${objectWords(target)}`, objectClass(r.renameType));
    }
    case 'AlterObjectSchemaStmt':
    case 'AlterObjectDependsStmt': {
      const t = (body as { objectType?: ObjectType }).objectType;
      return kind(`ALTER ${objectWords(t)}`, objectClass(t));
    }
    case 'AlterOwnerStmt': {
      const t = (body as AlterOwnerStmt).objectType;
      // A new owner holds every privilege on the object.
      return kind(`ALTER ${objectWords(t)}`, stricterClass(objectClass(t), 'dcl'));
    }
    case 'GrantStmt':
      return kind((body as GrantStmt).is_grant ? 'GRANT' : 'REVOKE', 'dcl');
    case 'GrantRoleStmt':
      return kind((body as GrantRoleStmt).is_grant ? 'GRANT ROLE' : 'REVOKE ROLE', 'dcl');
    case 'VacuumStmt':
      return kind((body as VacuumStmt).is_vacuumcmd ? 'VACUUM' : 'ANALYZE', 'admin');
    case 'TransactionStmt': {
      const t = (body as TransactionStmt).kind;
      return kind(t ? TRANSACTION_COMMANDS[t] : 'BEGIN', 'transaction');
    }
    case 'VariableSetStmt':
      return variableSetKind(body as VariableSetStmt);
    case 'DiscardStmt': {
      const target = (body as DiscardStmt).target ?? 'DISCARD_ALL';
      // DISCARD ALL runs SET SESSION AUTHORIZATION DEFAULT, undoing any role the session was put in.
      if (target === 'DISCARD_ALL') return kind('DISCARD ALL', 'session', 'role-change');
      return kind(target.replace('_', ' '), 'session');
    }
    case 'DeallocateStmt':
      return kind((body as DeallocateStmt).isall ? 'DEALLOCATE ALL' : 'DEALLOCATE', 'session');
    case 'FetchStmt':
      return kind((body as FetchStmt).ismove ? 'MOVE' : 'FETCH', 'session');
    case 'ClosePortalStmt':
      return kind((body as ClosePortalStmt).portalname === undefined ? 'CLOSE CURSOR ALL' : 'CLOSE CURSOR', 'session');
  }
  return kind('UNKNOWN', 'admin');
}

function variableSetKind(s: VariableSetStmt): StatementKind {
  const reset = s.kind === 'VAR_RESET' || s.kind === 'VAR_RESET_ALL';
  const command = reset ? 'RESET' : 'SET';
  // GUC names are case-insensitive; the parser folds unquoted ones but keeps quoted ones.
  const name = s.name?.toLowerCase();
  if (name !== undefined && ROLE_SETTINGS.has(name)) return kind(command, 'dcl', 'role-change');
  if (name !== undefined && LEXER_SETTINGS.has(name)) return kind(command, 'admin');
  return kind(command, 'session');
}

/** Every object type of the parser; the compiler checks the list is complete. */
const OBJECT_TYPES = [
  'OBJECT_ACCESS_METHOD',
  'OBJECT_AGGREGATE',
  'OBJECT_AMOP',
  'OBJECT_AMPROC',
  'OBJECT_ATTRIBUTE',
  'OBJECT_CAST',
  'OBJECT_COLUMN',
  'OBJECT_COLLATION',
  'OBJECT_CONVERSION',
  'OBJECT_DATABASE',
  'OBJECT_DEFAULT',
  'OBJECT_DEFACL',
  'OBJECT_DOMAIN',
  'OBJECT_DOMCONSTRAINT',
  'OBJECT_EVENT_TRIGGER',
  'OBJECT_EXTENSION',
  'OBJECT_FDW',
  'OBJECT_FOREIGN_SERVER',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_FUNCTION',
  'OBJECT_INDEX',
  'OBJECT_LANGUAGE',
  'OBJECT_LARGEOBJECT',
  'OBJECT_MATVIEW',
  'OBJECT_OPCLASS',
  'OBJECT_OPERATOR',
  'OBJECT_OPFAMILY',
  'OBJECT_PARAMETER_ACL',
  'OBJECT_POLICY',
  'OBJECT_PROCEDURE',
  'OBJECT_PUBLICATION',
  'OBJECT_PUBLICATION_NAMESPACE',
  'OBJECT_PUBLICATION_REL',
  'OBJECT_ROLE',
  'OBJECT_ROUTINE',
  'OBJECT_RULE',
  'OBJECT_SCHEMA',
  'OBJECT_SEQUENCE',
  'OBJECT_SUBSCRIPTION',
  'OBJECT_STATISTIC_EXT',
  'OBJECT_TABCONSTRAINT',
  'OBJECT_TABLE',
  'OBJECT_TABLESPACE',
  'OBJECT_TRANSFORM',
  'OBJECT_TRIGGER',
  'OBJECT_TSCONFIGURATION',
  'OBJECT_TSDICTIONARY',
  'OBJECT_TSPARSER',
  'OBJECT_TSTEMPLATE',
  'OBJECT_TYPE',
  'OBJECT_USER_MAPPING',
  'OBJECT_VIEW',
] as const satisfies readonly ObjectType[];
type UnlistedObjectType = Exclude<ObjectType, (typeof OBJECT_TYPES)[number]>;
const objectTypesListed: [UnlistedObjectType] extends [never] ? true : UnlistedObjectType = true;
void objectTypesListed;

/** The kinds a DefineStmt (CREATE AGGREGATE, OPERATOR, TYPE, COLLATION, TEXT SEARCH ...) takes. */
const DEFINE_KINDS: ObjectType[] = [
  'OBJECT_AGGREGATE',
  'OBJECT_OPERATOR',
  'OBJECT_TYPE',
  'OBJECT_COLLATION',
  'OBJECT_TSPARSER',
  'OBJECT_TSDICTIONARY',
  'OBJECT_TSTEMPLATE',
  'OBJECT_TSCONFIGURATION',
];

/**
 * Commands of statementKind that are not in the tables above. A test classifies a statement of
 * every kind and checks its command is in SQL_COMMANDS.
 */
const OTHER_COMMANDS = [
  'SELECT',
  'SELECT INTO',
  'UPDATE',
  'DELETE',
  'TRUNCATE TABLE',
  'COPY',
  'CREATE TABLE AS',
  'CREATE MATERIALIZED VIEW',
  'DO',
  'CALL',
  'EXECUTE',
  'CREATE FUNCTION',
  'CREATE PROCEDURE',
  'GRANT',
  'REVOKE',
  'GRANT ROLE',
  'REVOKE ROLE',
  'VACUUM',
  'ANALYZE',
  'SET',
  'RESET',
  'DISCARD ALL',
  'DISCARD PLANS',
  'DISCARD SEQUENCES',
  'DISCARD TEMP',
  'DEALLOCATE',
  'DEALLOCATE ALL',
  'FETCH',
  'MOVE',
  'CLOSE CURSOR',
  'CLOSE CURSOR ALL',
  // A statement the classifier does not know (refused as administration).
  'UNKNOWN',
];

/**
 * Every command name a statement can be classified with, sorted: what policy rules may name in
 * `sql.commands`. One source, derived from the tables statementKind reads.
 */
export const SQL_COMMANDS: readonly string[] = Object.freeze(
  [
    ...new Set([
      ...Object.values(FIXED).map(([command]) => command),
      ...Object.values(TRANSACTION_COMMANDS),
      ...OTHER_COMMANDS,
      ...DEFINE_KINDS.map((t) => `CREATE ${objectWords(t)}`),
      ...[...OBJECT_TYPES, undefined].flatMap((t) => [`ALTER ${objectWords(t)}`, `DROP ${objectWords(t)}`]),
    ]),
  ].sort(),
);

const KNOWN = new Set(SQL_COMMANDS);

/**
 * The command (or commands) a name in a policy rule stands for. A name is a command of
 * SQL_COMMANDS, or the leading words of exactly one (TRUNCATE for TRUNCATE TABLE, LOCK for LOCK
 * TABLE): such an alias stands for that one command. Anything else is an error that names the
 * valid commands.
 */
export function resolveSqlCommand(name: string): { command: string } | { error: string } {
  if (KNOWN.has(name)) return { command: name };
  const begun = SQL_COMMANDS.filter((c) => c.startsWith(`${name} `));
  if (begun.length === 1) return { command: begun[0] };
  if (begun.length > 1) {
    return { error: `"${name}" names several SQL commands (${begun.join(', ')}): list the ones meant` };
  }
  const keyword = name.split(' ')[0];
  const near = SQL_COMMANDS.filter((c) => c === keyword || c.startsWith(`${keyword} `));
  return {
    error:
      near.length > 0
        ? `unknown SQL command "${name}": commands that begin with ${keyword} are ${near.join(', ')}`
        : `unknown SQL command "${name}": the commands are ${SQL_COMMANDS.join(', ')}`,
  };
}
