import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  BackendType,
  decodeErrorFields,
  encodeBind,
  encodeClose,
  encodeDescribe,
  encodeExecute,
  encodeFlush,
  encodeParse,
  encodeQuery,
  encodeSync,
  type Frame,
} from '@airlock/pg-wire';
import { PgUpstreamDatabase, waitFor } from '@airlock/testing';
import { RawPgClient, typesOf } from './support/pg-raw';
import { TestSystem } from './support/system';

/**
 * What policy judges is what the server runs: the gateway's view of prepared statements, portals
 * and the search_path follows the server's, whatever order, errors and pipelining the client
 * chooses. Real PostgreSQL behind the gateway, under a policy that denies DDL, reads public tables
 * only and masks customers.ssn (test/fixtures/policy.yaml, connection pgstate).
 */
describe('PostgreSQL protocol state through the gateway', () => {
  const sys = new TestSystem();
  const tag = randomBytes(4).toString('hex');
  const ssn = `${(parseInt(tag, 16) % 900) + 100}-47-${(parseInt(tag, 16) % 9000) + 1000}`;
  let db: PgUpstreamDatabase;
  let token: string;

  beforeAll(async () => {
    await sys.start({ postgres: true });
    db = await PgUpstreamDatabase.create('airlock_state');
    await db.query(`
      CREATE TABLE customers (id int PRIMARY KEY, name text, ssn text);
      INSERT INTO customers VALUES (1, 'Ada', '${ssn}');
      CREATE TABLE mbt_log (marker text);
      CREATE SCHEMA hr;
      CREATE TABLE hr.salaries (name text, amount int);
      INSERT INTO hr.salaries VALUES ('Ada', 123456);
    `);
    await sys.addPgConnection('pgstate', db);
    token = await sys.token();
  }, 240000);

  afterAll(async () => {
    await sys.stop();
    await db?.drop();
  }, 60000);

  async function tableExists(name: string): Promise<boolean> {
    const rows = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_class WHERE relname = $1 AND relkind = 'r'`,
      [name],
    );
    return rows[0].n !== '0';
  }

  function errorsOf(frames: Frame[]): Array<Record<string, string>> {
    return frames.filter((f) => f.type === BackendType.ErrorResponse).map((f) => decodeErrorFields(f.body));
  }

  function everything(frames: Frame[]): string {
    return Buffer.concat(frames.map((f) => f.raw)).toString('latin1');
  }

  describe('named statements and portals change only when the server confirms', () => {
    it('keeps a statement whose Close the server skipped after an error', async () => {
      const name = `bypass_close_${tag}`;
      const raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
      try {
        raw.send(encodeParse('s1', `CREATE TABLE ${name} (x int)`), encodeSync());
        expect(typesOf(await raw.untilReady())).toBe('1Z');
        raw.send(encodeParse('', 'not sql'), encodeClose('S', 's1'), encodeSync());
        const failed = await raw.untilReady();
        expect(errorsOf(failed).map((e) => e.C)).toEqual(['42601']);
        raw.send(encodeBind('', 's1', []), encodeExecute(''), encodeSync());
        const run = await raw.untilReady();
        expect(errorsOf(run).map((e) => e.C)).toEqual(['42501']);
        expect(await tableExists(name)).toBe(false);
      } finally {
        raw.close();
      }
    });

    it('keeps the first statement of a name the server refused to redefine (42P05)', async () => {
      const name = `bypass_dup_${tag}`;
      const raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
      try {
        raw.send(encodeParse('s2', `CREATE TABLE ${name} (x int)`), encodeSync());
        await raw.untilReady();
        raw.send(encodeParse('s2', 'SELECT 1'), encodeSync());
        expect(errorsOf(await raw.untilReady()).map((e) => e.C)).toEqual(['42P05']);
        raw.send(encodeBind('', 's2', []), encodeExecute(''), encodeSync());
        expect(errorsOf(await raw.untilReady()).map((e) => e.C)).toEqual(['42501']);
        // Pipelined without waiting for the server's answer in between: the same outcome.
        raw.send(
          encodeParse('s2', 'SELECT 2'),
          encodeSync(),
          encodeBind('', 's2', []),
          encodeExecute(''),
          encodeSync(),
        );
        const first = await raw.untilReady();
        const second = await raw.untilReady();
        expect(errorsOf(first).map((e) => e.C)).toEqual(['42P05']);
        expect(errorsOf(second).map((e) => e.C)).toEqual(['42501']);
        expect(await tableExists(name)).toBe(false);
      } finally {
        raw.close();
      }
    });

    it('does not let a COPY of a masked column out under another statement name', async () => {
      const raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
      try {
        raw.send(encodeParse('s3', 'COPY (SELECT id, ssn FROM customers) TO STDOUT'), encodeSync());
        await raw.untilReady();
        raw.send(encodeParse('', 'not sql'), encodeClose('S', 's3'), encodeSync());
        await raw.untilReady();
        raw.send(encodeBind('', 's3', []), encodeExecute(''), encodeSync());
        const run = await raw.untilReady();
        expect(everything(run)).not.toContain(ssn);
        expect(errorsOf(run)).toHaveLength(1);
      } finally {
        raw.close();
      }
    });

    it('refuses a Bind, Describe or Execute of a name the gateway holds no decision for', async () => {
      const raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
      try {
        // A statement prepared in SQL is the server's, not one the gateway decided.
        raw.send(encodeQuery('PREPARE viasql AS SELECT 1'));
        await raw.untilReady();
        raw.send(encodeBind('', 'viasql', []), encodeExecute(''), encodeSync());
        const bound = errorsOf(await raw.untilReady());
        expect(bound.map((e) => e.C)).toEqual(['26000']);
        raw.send(encodeDescribe('S', 'nowhere'), encodeSync());
        expect(errorsOf(await raw.untilReady()).map((e) => e.C)).toEqual(['26000']);
        raw.send(encodeExecute('nowhere'), encodeSync());
        expect(errorsOf(await raw.untilReady()).map((e) => e.C)).toEqual(['34000']);
        // The session goes on.
        raw.send(encodeQuery('SELECT 40 + 2'));
        expect(typesOf(await raw.untilReady())).toBe('TDCZ');
      } finally {
        raw.close();
      }
    });
  });

  describe('table names resolve through the session search_path', () => {
    it.each([
      ['SET', ['SET search_path = hr', 'SELECT * FROM salaries']],
      ['SET LOCAL', ['BEGIN', 'SET LOCAL search_path TO hr, public', 'SELECT * FROM salaries', 'COMMIT']],
      ['set_config', ["SELECT set_config('search_path', 'hr', false)", 'SELECT * FROM salaries']],
      ['one message', ['SET search_path = hr; SELECT * FROM salaries']],
    ])('refuses a read of hr.salaries reached by %s', async (_how, statements) => {
      const raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
      try {
        const frames: Frame[] = [];
        for (const sql of statements) {
          raw.send(encodeQuery(sql));
          frames.push(...(await raw.untilReady()));
        }
        expect(everything(frames)).not.toContain('123456');
        expect(errorsOf(frames).map((e) => e.C)).toContain('42501');
      } finally {
        raw.close();
      }
    });

    it('still reads public tables after the path is set back', async () => {
      const raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
      try {
        raw.send(encodeQuery('SET search_path = hr'));
        await raw.untilReady();
        raw.send(encodeQuery('RESET search_path'));
        await raw.untilReady();
        raw.send(encodeQuery('SELECT name FROM customers'));
        const frames = await raw.untilReady();
        expect(errorsOf(frames)).toEqual([]);
        expect(typesOf(frames)).toBe('TDCZ');
      } finally {
        raw.close();
      }
    });

    it('refuses a search_path set to a value it cannot follow', async () => {
      const raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
      try {
        raw.send(encodeQuery("SELECT set_config('search_path', (SELECT 'h' || 'r'), false)"));
        const frames = await raw.untilReady();
        expect(errorsOf(frames).map((e) => e.C)).toEqual(['42501']);
        raw.send(encodeQuery('SELECT * FROM salaries'));
        expect(errorsOf(await raw.untilReady()).map((e) => e.C)).toEqual(['42P01']);
      } finally {
        raw.close();
      }
    });
  });

  describe('generated protocol sequences (model-based)', () => {
    const ddl = `CREATE TABLE mbt_denied_${tag} (x int)`;
    const names = ['', 's1', 's2'];
    const portals = ['', 'p1'];
    let markerSeq = 0;

    /** The checks look at the server and the audit store, not at a model of them. */
    type Model = Record<string, never>;
    interface Real {
      raw: RawPgClient;
      markers: string[];
    }

    const sqlArb = fc.constantFrom(
      'SELECT 1',
      ddl,
      'not sql',
      `SELECT id, ssn FROM customers`,
      `COPY (SELECT id, ssn FROM customers) TO STDOUT`,
      'INSERT INTO mbt_log VALUES (@marker)',
      'SELECT $1::int',
      'DEALLOCATE ALL',
      'PREPARE s1 AS SELECT 2',
      'SET search_path = hr',
      'RESET search_path',
      'SELECT * FROM salaries',
    );

    function withMarker(sql: string, real: Real): string {
      if (!sql.includes('@marker')) return sql;
      const marker = `m-${tag}-${++markerSeq}`;
      real.markers.push(marker);
      return sql.replace('@marker', `'${marker}'`);
    }

    class Send implements fc.AsyncCommand<Model, Real> {
      constructor(
        private readonly label: string,
        private readonly build: (real: Real) => Buffer,
      ) {}
      check(): boolean {
        return true;
      }
      async run(_m: Model, real: Real): Promise<void> {
        real.raw.send(this.build(real));
      }
      toString(): string {
        return this.label;
      }
    }

    const commands = [
      fc
        .tuple(fc.constantFrom(...names), sqlArb)
        .map(([n, sql]) => new Send(`Parse(${n}, ${sql})`, (r) => encodeParse(n, withMarker(sql, r)))),
      fc
        .tuple(fc.constantFrom(...portals), fc.constantFrom(...names), fc.boolean())
        .map(
          ([p, n, withParam]) =>
            new Send(`Bind(${p}, ${n})`, () => encodeBind(p, n, withParam ? [Buffer.from('7')] : [])),
        ),
      fc
        .tuple(fc.constantFrom<'S' | 'P'>('S', 'P'), fc.constantFrom(...names, ...portals))
        .map(([t, n]) => new Send(`Describe(${t}, ${n})`, () => encodeDescribe(t, n))),
      fc.constantFrom(...portals).map((p) => new Send(`Execute(${p})`, () => encodeExecute(p))),
      fc
        .tuple(fc.constantFrom<'S' | 'P'>('S', 'P'), fc.constantFrom(...names, ...portals))
        .map(([t, n]) => new Send(`Close(${t}, ${n})`, () => encodeClose(t, n))),
      fc.constant(new Send('Sync', () => encodeSync())),
      fc.constant(new Send('Flush', () => encodeFlush())),
      sqlArb.map((sql) => new Send(`Query(${sql})`, (r) => encodeQuery(withMarker(sql, r)))),
    ];

    it('never runs a denied statement, never shows a masked value, and audits every statement the server ran', async () => {
      const allMarkers: string[] = [];
      let raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
      let runs = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
            runs++;
            if (raw.isClosed) raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
            const real: Real = { raw, markers: [] };
            await fc.asyncModelRun(() => ({ model: {}, real }), cmds);
            // A Query the server skips after an error gets no answer at all: wait for an end mark instead of counting.
            const end = `end-${runs}`;
            raw.send(encodeSync(), encodeQuery(`SELECT '${end}'`));
            const frames = await raw.untilText(end);
            allMarkers.push(...real.markers);
            expect(everything(frames)).not.toContain(ssn);
            expect(everything(frames)).not.toContain('123456');
            expect(await tableExists(`mbt_denied_${tag}`)).toBe(false);
            // Reset the session between runs: statements and portals of one run are not the next one's.
            raw.close();
            raw = await RawPgClient.connect(sys.pgPort, 'pgstate', token);
          }),
          { numRuns: Number(process.env.MBT_RUNS ?? 2000), endOnFailure: true },
        );
      } finally {
        raw.close();
      }
      expect(runs).toBeGreaterThanOrEqual(Number(process.env.MBT_RUNS ?? 2000));
      // Every marker the server stored was written by a statement the audit trail shows with its text.
      const stored = (await db.query<{ marker: string }>('SELECT marker FROM mbt_log')).map((r) => r.marker);
      expect(stored.length).toBeGreaterThan(0);
      const audited = await waitFor(
        'every stored marker in the audit store',
        async () => {
          const rows = await sys.db.query<{ statement: string }>(
            `SELECT event #>> '{data,statement}' AS statement FROM audit_event
              WHERE connection = 'pgstate' AND type = 'statement.completed' AND event #>> '{data,statement}' LIKE 'INSERT INTO mbt_log%'`,
          );
          const text = rows.map((r) => r.statement).join('\n');
          return stored.every((m) => text.includes(m)) ? text : undefined;
        },
        { timeoutMs: 30000 },
      );
      for (const m of stored) expect(audited).toContain(m);
      for (const m of stored) expect(allMarkers).toContain(m);
    }, 1_800_000);
  });
});
