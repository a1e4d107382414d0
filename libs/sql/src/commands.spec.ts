import { SQL_COMMANDS, resolveSqlCommand } from './commands';
import { classifySql, loadSqlParser } from './index';

beforeAll(async () => {
  await loadSqlParser();
});

/** A statement of every kind the classifier knows (and a few of each computed family). */
const CORPUS = [
  'SELECT 1',
  'SELECT 1 INTO t',
  'SELECT * FROM t FOR UPDATE',
  'INSERT INTO t VALUES (1)',
  'UPDATE t SET a = 1',
  'DELETE FROM t',
  'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE',
  'TRUNCATE t',
  'LOCK TABLE t',
  'COPY t TO STDOUT',
  "COPY t FROM '/tmp/x'",
  "COPY t TO PROGRAM 'cat'",
  'CREATE TABLE t2 AS SELECT 1',
  'CREATE MATERIALIZED VIEW mv AS SELECT 1',
  'DO $$ BEGIN NULL; END $$',
  'CALL p()',
  'EXECUTE s',
  "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
  "CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'",
  'ALTER FUNCTION f() STABLE',
  'ALTER PROCEDURE p() SECURITY DEFINER',
  'ALTER ROUTINE f() STABLE',
  'CREATE AGGREGATE a (int) (sfunc = int4pl, stype = int)',
  'CREATE OPERATOR === (leftarg = int, rightarg = int, function = int4eq)',
  'CREATE TYPE ty (input = i, output = o)',
  "CREATE COLLATION c (locale = 'C')",
  'CREATE TEXT SEARCH CONFIGURATION tsc (copy = english)',
  'ALTER TABLE t ADD COLUMN b int',
  'ALTER TABLE t OWNER TO bob',
  'ALTER INDEX i RENAME TO j',
  'ALTER VIEW v RENAME TO w',
  'ALTER TABLE t RENAME COLUMN a TO b',
  'ALTER TABLE t SET SCHEMA s',
  'ALTER SCHEMA s OWNER TO bob',
  'ALTER FUNCTION f() DEPENDS ON EXTENSION e',
  'DROP TABLE t',
  'DROP VIEW v',
  'DROP FUNCTION f()',
  'DROP EXTENSION e',
  'DROP INDEX i',
  'DROP SCHEMA s',
  'DROP RULE r ON t',
  'GRANT SELECT ON t TO bob',
  'REVOKE SELECT ON t FROM bob',
  'GRANT admins TO bob',
  'REVOKE admins FROM bob',
  'VACUUM t',
  'ANALYZE t',
  'BEGIN',
  'START TRANSACTION',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT s',
  'RELEASE s',
  'ROLLBACK TO s',
  "PREPARE TRANSACTION 'x'",
  "COMMIT PREPARED 'x'",
  "ROLLBACK PREPARED 'x'",
  'SET a.b = 1',
  'SET ROLE bob',
  'RESET ALL',
  'DISCARD ALL',
  'DISCARD PLANS',
  'DISCARD SEQUENCES',
  'DISCARD TEMP',
  'DEALLOCATE s',
  'DEALLOCATE ALL',
  'FETCH c',
  'MOVE c',
  'CLOSE c',
  'CLOSE ALL',
  'EXPLAIN SELECT 1',
  'SHOW ALL',
  'LISTEN x',
  'UNLISTEN x',
  'NOTIFY x',
  'PREPARE s AS SELECT 1',
  'DECLARE c CURSOR FOR SELECT 1',
  'SET CONSTRAINTS ALL DEFERRED',
  'CREATE TABLE t (a int)',
  'CREATE INDEX ON t (a)',
  'CREATE VIEW v AS SELECT 1',
  'CREATE SCHEMA s',
  'CREATE ROLE r',
  'CREATE DATABASE d',
  'CREATE EXTENSION e',
  'CHECKPOINT',
  "ALTER SYSTEM SET work_mem = '1GB'",
  "LOAD 'x'",
  'REFRESH MATERIALIZED VIEW mv',
  "COMMENT ON TABLE t IS 'x'",
  'CLUSTER t',
  'REINDEX TABLE t',
];

describe('SQL_COMMANDS', () => {
  it('holds every command the classifier gives, once, in order', () => {
    const seen = new Set<string>();
    for (const sql of CORPUS) {
      const c = classifySql(sql);
      if (!c.parsed) throw new Error(`${sql} did not parse: ${c.error}`);
      for (const s of c.statements) seen.add(s.command);
    }
    expect([...seen].filter((c) => !SQL_COMMANDS.includes(c))).toEqual([]);
    expect(seen.size).toBeGreaterThan(60);
    expect(new Set(SQL_COMMANDS).size).toBe(SQL_COMMANDS.length);
    expect([...SQL_COMMANDS].sort()).toEqual(SQL_COMMANDS);
    for (const c of SQL_COMMANDS) expect(c).toMatch(/^[A-Z]+( [A-Z]+)*$/);
  });

  it('resolves a command, an alias of one command, and refuses an ambiguous or unknown name', () => {
    expect(resolveSqlCommand('TRUNCATE TABLE')).toEqual({ command: 'TRUNCATE TABLE' });
    expect(resolveSqlCommand('TRUNCATE')).toEqual({ command: 'TRUNCATE TABLE' });
    expect(resolveSqlCommand('LOCK')).toEqual({ command: 'LOCK TABLE' });
    // A command that is also the start of others is itself.
    expect(resolveSqlCommand('ROLLBACK')).toEqual({ command: 'ROLLBACK' });
    expect(resolveSqlCommand('CLOSE')).toEqual({
      error: expect.stringMatching(/"CLOSE" names several SQL commands \(CLOSE CURSOR, CLOSE CURSOR ALL\)/),
    });
    expect(resolveSqlCommand('TRUNCATE TABLES')).toEqual({
      error: expect.stringMatching(/unknown SQL command "TRUNCATE TABLES": .*TRUNCATE TABLE/),
    });
    // Only whole words: TRUNC is not TRUNCATE.
    expect(resolveSqlCommand('TRUNC')).toEqual({ error: expect.stringMatching(/unknown SQL command "TRUNC"/) });
  });
});
