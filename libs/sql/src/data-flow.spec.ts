import fc from 'fast-check';
import { parseSync } from 'libpg-query';
import {
  UNRESOLVED_RULE,
  VIEW_SEARCH_PATH,
  referencedRelations,
  statementDataFlow,
  type RelationInfo,
  type StatementFlow,
} from './data-flow';
import { loadSqlParser } from './parser';
import type { SearchPath } from './search-path';

const SSN = 'column:public.customers.ssn';
const PASSWORD = 'field:password';

function parse(sql: string): unknown {
  return parseSync(sql).stmts?.[0]?.stmt;
}

const tables: Record<string, RelationInfo> = {
  'public.customers': { kind: 'table', columns: ['id', 'name', 'email', 'ssn', 'password', 'notes'] },
  'public.orders': { kind: 'table', columns: ['id', 'customer_id', 'amount', 'note'] },
  'public.people': { kind: 'table', columns: ['id', 'ssn'] },
  'hr.customers': { kind: 'table', columns: ['id', 'name'] },
};

function catalog(extra: Record<string, RelationInfo | undefined> = {}) {
  const all: Record<string, RelationInfo | undefined> = { ...tables, ...extra };
  return {
    relation: (q: string): RelationInfo | null | undefined => (q in all ? all[q] : null),
  };
}

function flow(sql: string, opts: { searchPath?: SearchPath; extra?: Record<string, RelationInfo | undefined> } = {}) {
  return statementDataFlow(parse(sql), {
    masked: {
      columnRule: (s, t, c) => (`${s}.${t}.${c}` === 'public.customers.ssn' ? SSN : null),
      fieldRule: (c) => (c === 'password' ? PASSWORD : null),
    },
    searchPath: opts.searchPath ?? ['public'],
    relations: catalog(opts.extra),
  });
}

/** The rules masking each result column (`*` for the rest), as sorted lists. */
function outputs(f: StatementFlow): string[][] {
  return f.outputs.map((o) => [...o].sort());
}

function masked(sql: string, opts?: Parameters<typeof flow>[1]): boolean[] {
  return flow(sql, opts).outputs.map((o) => o.length > 0);
}

beforeAll(async () => {
  await loadSqlParser();
});

describe('statementDataFlow: outputs', () => {
  it.each([
    `SELECT ssn || '' FROM customers`,
    `SELECT row_to_json(c) FROM customers c`,
    `SELECT upper(ssn) FROM customers`,
    `SELECT (SELECT ssn FROM customers LIMIT 1)`,
    `WITH x AS (SELECT ssn AS v FROM customers) SELECT v FROM x`,
    `SELECT string_agg(ssn, ',') FROM customers`,
    `SELECT to_jsonb(c) ->> 'ssn' FROM customers c`,
    `SELECT c::text FROM customers c`,
    `SELECT ssn::int FROM customers`,
    `SELECT c FROM customers c`,
    `SELECT (c).ssn FROM customers c`,
    `SELECT ssn AS renamed FROM customers`,
    `SELECT customers.ssn FROM customers`,
    `SELECT public.customers.ssn FROM public.customers`,
    `SELECT x FROM (SELECT ssn AS x FROM customers) s`,
    `SELECT s.a FROM (SELECT ssn FROM customers) s(a)`,
    `SELECT name FROM orders UNION SELECT ssn FROM customers`,
    `SELECT l.v FROM orders o, LATERAL (SELECT ssn AS v FROM customers c WHERE c.id = o.customer_id) l`,
    `SELECT CASE WHEN id > 0 THEN ssn ELSE 'x' END FROM customers`,
    `SELECT COALESCE(NULL, ssn) FROM customers`,
    `SELECT json_build_object('a', ssn) FROM customers`,
    `SELECT JSON_OBJECT('a' VALUE ssn) FROM customers`,
    `SELECT JSON_ARRAY(ssn) FROM customers`,
    `SELECT jsonb_agg(c) FROM customers c`,
    `SELECT first_value(ssn) OVER (ORDER BY id) FROM customers`,
    `SELECT ARRAY[ssn] FROM customers`,
    `SELECT ROW(id, ssn) FROM customers`,
    `SELECT v FROM customers, unnest(ARRAY[ssn]) AS u(v)`,
    `WITH RECURSIVE r(v, n) AS (SELECT ssn, 1 FROM customers UNION ALL SELECT v, n + 1 FROM r WHERE n < 2) SELECT v FROM r`,
    `SELECT count(*) FILTER (WHERE ssn LIKE '0%') FROM customers`,
    `SELECT rank() OVER (ORDER BY ssn) FROM customers`,
    `SELECT customers FROM customers`,
    `SELECT x.* FROM (SELECT ssn FROM customers) x`,
    `SELECT c.* FROM (VALUES (1)) v(a), LATERAL (SELECT ssn FROM customers) c`,
    `SELECT j.ssn FROM customers JOIN orders ON true AS j`.replace(' AS j', ''),
    `SELECT query_to_xml('select ssn from customers', true, true, '')`,
    `SELECT password || '' FROM customers`,
    `SELECT xmlelement(name a, ssn) FROM customers`,
    `SELECT EXISTS (SELECT 1) OR ssn IS NULL FROM customers`,
    `SELECT format('%s', ssn) FROM customers`,
    `SELECT (SELECT max(ssn) FROM customers) FROM orders`,
  ])('masks the output of %s', (sql) => {
    expect(masked(sql)[0]).toBe(true);
  });

  it('names the rule that masks, and leaves unrelated columns unmasked', () => {
    expect(outputs(flow(`SELECT id, upper(ssn), name, password, notes FROM customers`))).toEqual([
      [],
      [SSN],
      [],
      [PASSWORD],
      [],
    ]);
    expect(outputs(flow(`SELECT row_to_json(c) FROM customers c`))).toEqual([[PASSWORD, SSN].sort()]);
    expect(flow(`SELECT id, amount FROM orders`).outputs).toEqual([[], []]);
    expect(flow(`SELECT 1, 'a', now()`).outputs).toEqual([[], [], []]);
  });

  it('expands * in order, through joins and USING', () => {
    expect(masked(`SELECT * FROM customers`)).toEqual([false, false, false, true, true, false]);
    expect(masked(`SELECT * FROM orders o JOIN people p ON p.id = o.customer_id`)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(masked(`SELECT * FROM orders JOIN customers USING (id)`)).toEqual([
      false, // id
      false,
      false,
      false,
      false, // name
      false,
      true, // ssn
      true, // password
      false,
    ]);
  });

  it('follows a column of the same name in another table only where it may come from', () => {
    // people.ssn is not masked; customers.ssn is.
    expect(masked(`SELECT ssn FROM people`)).toEqual([false]);
    expect(masked(`SELECT p.ssn FROM people p, customers c`)).toEqual([false]);
    expect(masked(`SELECT c.ssn FROM people p, customers c`)).toEqual([true]);
    // An unqualified name in a correlated subquery: the inner relation has it.
    expect(masked(`SELECT (SELECT ssn FROM people p WHERE p.id = c.id) FROM customers c`)).toEqual([false]);
    // The inner relation has no ssn: it is the outer one's.
    expect(masked(`SELECT (SELECT ssn FROM orders o WHERE o.id = 1) FROM customers c`)).toEqual([true]);
  });

  it('resolves names through every candidate of the search path', () => {
    // hr.customers has no ssn, but public.customers does and may be the one picked.
    expect(masked(`SELECT * FROM customers`, { searchPath: ['hr', 'public'] })[1]).toBe(false);
    expect(masked(`SELECT row_to_json(c) FROM customers c`, { searchPath: ['hr', 'public'] })).toEqual([true]);
    expect(masked(`SELECT ssn FROM customers`, { searchPath: ['hr', 'public'] })).toEqual([true]);
    expect(masked(`SELECT name FROM customers`, { searchPath: ['hr'] })).toEqual([false]);
  });

  it('fails closed on what it cannot resolve', () => {
    const unknown = { 'public.mystery': undefined };
    expect(flow(`SELECT a FROM mystery`, { extra: unknown }).outputs).toEqual([[UNRESOLVED_RULE]]);
    const star = flow(`SELECT * FROM mystery`, { extra: unknown });
    expect(star.outputs).toEqual([]);
    expect(star.rest).toEqual([UNRESOLVED_RULE]);
    expect(flow(`FETCH ALL FROM c`).rest).toEqual([UNRESOLVED_RULE]);
    // No relation of that name when the catalog was asked: it may have been created since.
    expect(flow(`SELECT a FROM created_later`).outputs).toEqual([[UNRESOLVED_RULE]]);
    expect(flow(`SELECT 1 FROM created_later WHERE a = 1`).searched).toEqual([UNRESOLVED_RULE]);
    expect(flow(`EXECUTE p`).rest).toEqual([UNRESOLVED_RULE]);
    expect(flow(`SELECT public.my_fn()`).outputs).toEqual([[UNRESOLVED_RULE]]);
    expect(flow(`SELECT my_fn(id) FROM orders`).outputs).toEqual([[UNRESOLVED_RULE]]);
    expect(flow(`SELECT a FROM XMLTABLE('/r' PASSING '<r/>' COLUMNS a text)`).outputs).toEqual([[UNRESOLVED_RULE]]);
  });

  it('follows views through their definition, to a depth', () => {
    const view = (sql: string, columns: string[]): RelationInfo => ({ kind: 'view', columns, definition: parse(sql) });
    const extra = {
      'public.v': view(`SELECT customers.id, customers.ssn AS tax_id FROM public.customers`, ['id', 'tax_id']),
      'public.w': view(`SELECT v.tax_id AS t FROM public.v`, ['t']),
      'public.broken': { kind: 'view', columns: ['a'], definition: undefined } as RelationInfo,
    };
    expect(masked(`SELECT * FROM v`, { extra })).toEqual([false, true]);
    expect(masked(`SELECT lower(t) FROM w`, { extra })).toEqual([true]);
    expect(flow(`SELECT a FROM broken`, { extra }).outputs).toEqual([[UNRESOLVED_RULE]]);
    // A view whose definition is read with only pg_catalog on the path: unqualified names are not resolved.
    const loose = { 'public.l': view(`SELECT id FROM customers`, ['id']) };
    expect(flow(`SELECT id FROM l`, { extra: loose }).outputs).toEqual([[UNRESOLVED_RULE]]);
    const self: Record<string, RelationInfo> = { 'public.loop': view(`SELECT a FROM public.loop`, ['a']) };
    expect(flow(`SELECT a FROM loop`, { extra: self }).outputs).toEqual([[UNRESOLVED_RULE]]);
    expect(flow(`SELECT * FROM v WHERE tax_id LIKE '0%'`, { extra }).searched).toEqual([SSN]);
    // Functions in a view's definition are built-ins unless qualified with another schema.
    const system = {
      'pg_catalog.pg_stat_x': view(`SELECT s.pid, s.ssl FROM pg_stat_get_activity(NULL::integer) s(pid, ssl)`, [
        'pid',
        'ssl',
      ]),
      'public.uses_fn': view(`SELECT public.secret_of(customers.id) AS a FROM public.customers`, ['a']),
    };
    expect(flow(`SELECT ssl FROM pg_stat_x WHERE pid = pg_backend_pid()`, { extra: system })).toMatchObject({
      outputs: [[]],
      searched: [],
    });
    expect(flow(`SELECT a FROM uses_fn`, { extra: system }).outputs).toEqual([[UNRESOLVED_RULE]]);
  });

  it('stays masked in any expression context (generated)', () => {
    const contexts = [
      (e: string) => `upper(${e})`,
      (e: string) => `(${e} || 'x')`,
      (e: string) => `(${e})::text`,
      (e: string) => `CAST(${e} AS varchar)`,
      (e: string) => `coalesce(${e}, 'a')`,
      (e: string) => `CASE WHEN true THEN ${e} END`,
      (e: string) => `nullif(${e}, 'z')`,
      (e: string) => `greatest(${e}, 'a')`,
      (e: string) => `ARRAY[${e}]`,
      (e: string) => `ROW(${e})`,
      (e: string) => `json_build_array(${e})`,
      (e: string) => `to_jsonb(${e})`,
      (e: string) => `substring(${e} from 1 for 3)`,
      (e: string) => `(SELECT ${e})`,
      (e: string) => `md5(${e})`,
      (e: string) => `(${e} = 'a')`,
      (e: string) => `(length(${e}) > 3)`,
      (e: string) => `string_agg(${e}, ',')`.replace(/string_agg\((.*), ','\)/, "array_to_string(ARRAY[$1], ',')"),
      (e: string) => `regexp_replace(${e}, 'a', 'b')`,
      (e: string) => `JSON_OBJECT('k' VALUE ${e})`,
    ];
    const roots = ['ssn', 'c.ssn', '(c).ssn', 'c', 'row_to_json(c.*)', `(SELECT ssn FROM customers LIMIT 1)`];
    fc.assert(
      fc.property(
        fc.constantFrom(...roots),
        fc.array(fc.integer({ min: 0, max: contexts.length - 1 }), { maxLength: 5 }),
        (root, wraps) => {
          let e = root;
          for (const w of wraps) e = contexts[w](e);
          const sql = `SELECT ${e} FROM customers c`;
          const f = flow(sql);
          return f.outputs.length > 0 && f.outputs.every((o) => o.includes(SSN));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('statementDataFlow: searches', () => {
  it.each([
    [`SELECT id FROM customers WHERE ssn LIKE '078%'`, [SSN]],
    [`SELECT o.id FROM orders o JOIN customers c ON c.ssn = o.note`, [SSN]],
    [`SELECT count(*) FROM customers GROUP BY ssn`, [SSN]],
    [`SELECT count(*) FROM customers GROUP BY id HAVING max(ssn) > '5'`, [SSN]],
    [`SELECT id FROM customers ORDER BY ssn`, [SSN]],
    [`SELECT id, ssn AS s FROM customers ORDER BY s`, [SSN]],
    [`SELECT id, ssn FROM customers ORDER BY 2`, [SSN]],
    [`SELECT DISTINCT ON (ssn) id FROM customers`, [SSN]],
    [`SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE ssn LIKE '0%')`, [SSN]],
    [`SELECT id FROM orders WHERE (SELECT ssn FROM customers LIMIT 1) LIKE '0%'`, [SSN]],
    [`SELECT id FROM customers WHERE password = 'x'`, [PASSWORD]],
    [`SELECT id FROM customers c WHERE c::text LIKE '%078%'`, [PASSWORD, SSN].sort()],
    [`DELETE FROM customers WHERE ssn LIKE '0%'`, [SSN]],
    [`EXPLAIN ANALYZE SELECT 1 FROM customers WHERE ssn LIKE '0%'`, [SSN]],
    [`SELECT ssn FROM customers INTERSECT SELECT '078-05-1120'`, [SSN]],
    [`SELECT ssn FROM customers EXCEPT SELECT note FROM orders`, [SSN]],
    [`SELECT ssn FROM customers UNION SELECT '078-05-1120'`, [SSN]],
    [`SELECT ssn FROM customers UNION ALL SELECT '078-05-1120'`, []],
    [`(WITH x AS (SELECT ssn FROM customers) SELECT ssn FROM x WHERE ssn > '1') UNION ALL SELECT 'a'`, [SSN]],
    [`SELECT * FROM orders JOIN customers USING (id)`, []],
    [`SELECT id FROM customers WHERE id = 1 ORDER BY name`, []],
    [`SELECT ssn FROM customers WHERE id = $1 ORDER BY id`, []],
    [`SELECT id FROM people WHERE ssn LIKE '0%'`, []],
  ])('%s searches %j', (sql, rules) => {
    expect([...flow(sql).searched].sort()).toEqual(rules);
  });

  it('finds a masked column in any clause that chooses rows, in any expression (generated)', () => {
    const exprs = [
      (e: string) => `upper(${e})`,
      (e: string) => `(${e} || 'x')`,
      (e: string) => `coalesce(${e}, 'a')`,
      (e: string) => `CASE WHEN ${e} IS NULL THEN 'a' ELSE 'b' END`,
      (e: string) => `(SELECT ${e})`,
      (e: string) => `length(${e})::text`,
      (e: string) => `ROW(${e})::text`,
    ];
    const clauses = [
      (e: string) => `SELECT c.id FROM customers c WHERE ${e} LIKE '0%'`,
      (e: string) => `SELECT c.id FROM customers c ORDER BY ${e}`,
      (e: string) => `SELECT count(*) FROM customers c GROUP BY ${e}`,
      (e: string) => `SELECT count(*) FROM customers c GROUP BY c.id HAVING max(${e}) > '1'`,
      (e: string) => `SELECT o.id FROM orders o JOIN customers c ON ${e} = o.note`,
      (e: string) => `SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE ${e} = o.note)`,
      (e: string) => `SELECT DISTINCT ON (${e}) c.id FROM customers c`,
      (e: string) => `DELETE FROM customers c WHERE ${e} > '5'`,
      (e: string) => `WITH x AS (SELECT c.id FROM customers c WHERE ${e} > '5') SELECT id FROM x`,
    ];
    fc.assert(
      fc.property(
        fc.constantFrom('ssn', 'c.ssn', '(c).ssn', 'c::text'),
        fc.array(fc.integer({ min: 0, max: exprs.length - 1 }), { maxLength: 4 }),
        fc.integer({ min: 0, max: clauses.length - 1 }),
        (root, wraps, clause) => {
          let e: string = root;
          for (const w of wraps) e = exprs[w](e);
          return flow(clauses[clause](e)).searched.includes(SSN);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports masked data written elsewhere', () => {
    expect(flow(`INSERT INTO orders (note) SELECT ssn FROM customers`).written).toEqual([SSN]);
    expect(flow(`UPDATE orders SET note = (SELECT ssn FROM customers LIMIT 1)`).written).toEqual([SSN]);
    expect(flow(`SELECT ssn INTO copied FROM customers`).written).toEqual([SSN]);
    expect(flow(`CREATE TABLE copied AS SELECT upper(ssn) FROM customers`).written).toEqual([SSN]);
    expect(flow(`INSERT INTO orders (note) VALUES ('a') RETURNING id`).written).toEqual([]);
  });

  it('reports masked data a function keeps or passes on: a setting, a notification, a sequence', () => {
    expect(flow(`SELECT set_config('my.v', ssn, false) FROM customers`).written).toEqual([SSN]);
    expect(flow(`SELECT pg_catalog.pg_notify('c', ssn) FROM customers`).written).toEqual([SSN]);
    expect(flow(`SELECT setval('s', length(ssn)) FROM customers`).written).toEqual([SSN]);
    expect(flow(`SELECT set_config('my.v', name, false) FROM customers`).written).toEqual([]);
  });

  it('masks RETURNING by what it returns', () => {
    expect(masked(`DELETE FROM customers WHERE id = 1 RETURNING id, ssn`)).toEqual([false, true]);
    expect(masked(`WITH d AS (DELETE FROM customers WHERE id = 1 RETURNING *) SELECT ssn FROM d`)).toEqual([true]);
  });
});

describe('referencedRelations', () => {
  it('lists the candidates of every relation named, targets included', () => {
    expect(
      referencedRelations(
        parse(`INSERT INTO orders SELECT * FROM customers c JOIN hr.x ON true WHERE EXISTS (SELECT FROM pg_class)`),
        ['s', 'public'],
      ).sort(),
    ).toEqual(
      [
        'hr.x',
        'pg_catalog.pg_class',
        'public.customers',
        'public.orders',
        's.customers',
        's.orders',
        's.pg_class',
        'public.pg_class',
      ].sort(),
    );
    expect(referencedRelations(parse(`SELECT * FROM customers`), VIEW_SEARCH_PATH)).toEqual([]);
    // Only what the analysis follows: not the table a statement creates or maintains.
    expect(referencedRelations(parse(`CREATE TABLE t (a int)`), ['public'])).toEqual([]);
    expect(referencedRelations(parse(`VACUUM t`), ['public'])).toEqual([]);
    expect(referencedRelations(parse(`SELECT a INTO t FROM u`), ['public'])).toEqual(['public.u']);
    expect(referencedRelations(parse(`CREATE TABLE t AS SELECT a FROM u`), ['public'])).toEqual(['public.u']);
    expect(referencedRelations(parse(`EXPLAIN SELECT a FROM u`), ['public'])).toEqual(['public.u']);
  });
});
