/**
 * Session list and search on a large audit store: p50/p95 of `GET /audit/sessions` (through the
 * recorder's HTTP API, with token verification) for the listing and each search filter, on a
 * store of N events (default 10,000,000) and their session summaries.
 *
 * The store is generated in PostgreSQL with generate_series into a database made for the run
 * (migrated by starting the recorder once), not through Kafka: N events spread over the last 30
 * days in day partitions, 10 per session, and one summary row per session with a realistic mix of
 * principals, connections, protocols, decisions and masking. Generating 10 million events takes
 * minutes. For comparison it also times the earlier query, which added events up at query time,
 * over the default range (the last 24 hours).
 *
 *   flock /tmp/airlock-bench.lock node dist/bench/session-search.js [events=10000000]
 *
 * KEEP_DB=1 keeps the database (its name is printed); BENCH_NO_RESULT=1 prints the figures
 * without writing bench/results/session-search.md.
 *
 * Needs the local infrastructure (infra/local/start.sh) and a build (npm run build).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, TestDatabase, TestIdentityProvider, freePort, repoRoot, runId } from '@airlock/testing';
import { percentile } from './percentile';

const DAY_MS = 86_400_000;
const DAYS = 30;
const EVENTS_PER_SESSION = 10;
const PRINCIPALS = 1000;
const CONNECTIONS = 50;
const RUNS = 40;
const WARMUP = 3;

/** A UUIDv7-shaped id in SQL: the millisecond time, then `n` as the 74 "random" bits (unique per n). */
const uuidAt = (ms: string, n: string) =>
  `(lpad(to_hex((${ms})::bigint), 12, '0') || '7' || lpad(to_hex(((${n}) >> 48) & 4095), 3, '0') || '8' ||
     lpad(to_hex((${n}) & x'ffffffffffff'::bigint), 15, '0'))::uuid`;

async function timed(label: string, fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  process.stdout.write(`${label}: ${(ms / 1000).toFixed(1)} s\n`);
  return ms;
}

async function generate(db: TestDatabase, events: number, now: number): Promise<{ sessions: number; ms: number }> {
  const sessions = Math.floor(events / EVENTS_PER_SESSION);
  const start = now - DAYS * DAY_MS;
  const spacing = (DAYS * DAY_MS) / sessions;
  for (let d = 0; d <= DAYS; d++) {
    await db.query('SELECT audit_ensure_partition($1::date)', [
      new Date(start + d * DAY_MS).toISOString().slice(0, 10),
    ]);
  }
  const t0 = performance.now();
  // Summaries: subject skewed (a few busy principals); connection, and its protocol (7 in 10 http);
  // 1 in 19 with a denial, 1 in 101 held, 1 in 199 approved, 1 in 13 with masked values.
  await timed(`summaries (${sessions})`, () =>
    db.query(`
      INSERT INTO audit_session
      SELECT ${uuidAt(`${start} + k * ${spacing}`, 'k')},
             'https://login.example.com',
             'agent-' || (floor(power(random(), 3) * ${PRINCIPALS}))::int,
             'conn-' || (k % ${CONNECTIONS}),
             CASE WHEN k % 10 < 7 THEN 'http' ELSE 'postgres' END,
             to_timestamp((${start} + k * ${spacing}) / 1000.0),
             to_timestamp((${start} + k * ${spacing} + ${(EVENTS_PER_SESSION - 1) * 100}) / 1000.0),
             ${EVENTS_PER_SESSION}, 3,
             3 - (CASE WHEN k % 19 = 0 THEN 1 ELSE 0 END),
             CASE WHEN k % 19 = 0 THEN 1 ELSE 0 END,
             CASE WHEN k % 101 = 1 THEN 1 ELSE 0 END,
             CASE WHEN k % 199 = 1 THEN 1 ELSE 0 END,
             CASE WHEN k % 13 = 3 THEN 1 + k % 7 ELSE 0 END
        FROM generate_series(0::bigint, ${sessions - 1}) AS k`),
  );
  // Events, a day at a time: session k's event j is 100 ms after its event j - 1.
  const perDay = Math.ceil(sessions / DAYS);
  for (let d = 0; d < DAYS; d++) {
    const from = d * perDay;
    const to = Math.min(sessions, from + perDay) - 1;
    if (from > to) break;
    await timed(`events of day ${d + 1}/${DAYS}`, () =>
      db.query(`
        INSERT INTO audit_event (id, type, schema_version, time, session_id, request_id, actor_issuer, actor_subject,
                                 actor_groups, connection, protocol, source, event, chain, seq, prev_hash, hash, kafka_offset)
        SELECT ${uuidAt(`${start} + k * ${spacing} + j * 100`, `k * ${EVENTS_PER_SESSION} + j`)},
               (ARRAY['operation.intercepted', 'operation.decided', 'operation.completed'])[1 + j % 3],
               1,
               to_timestamp((${start} + k * ${spacing} + j * 100) / 1000.0),
               ${uuidAt(`${start} + k * ${spacing}`, 'k')},
               ${uuidAt(`${start} + k * ${spacing}`, `k * 16 + j / 3`)},
               'https://login.example.com', 'agent-' || (k % ${PRINCIPALS}), ARRAY['agents'],
               'conn-' || (k % ${CONNECTIONS}), 'http', 'ingress-proxy',
               '{"type":"operation.completed","data":{"decision":{"decision":"allow"},"masked":{}}}'::json,
               (k % 6)::int, k * ${EVENTS_PER_SESSION} + j, '\\x00'::bytea, '\\x01'::bytea, k * ${EVENTS_PER_SESSION} + j
          FROM generate_series(${from}::bigint, ${to}) AS k, generate_series(0::bigint, ${EVENTS_PER_SESSION - 1}) AS j`),
    );
  }
  await timed('analyze', () => db.query('ANALYZE audit_event; ANALYZE audit_session'));
  return { sessions, ms: performance.now() - t0 };
}

/** The session listing as it was before summaries: events added up at query time (kept here to compare). */
const BEFORE_SQL = `
  WITH e AS (
    SELECT session_id, time, seq, request_id, actor_issuer, actor_subject, connection, protocol,
           CASE WHEN type = 'operation.decided' THEN event #>> '{data,decision}'
                WHEN type IN ('statement.completed', 'statement.failed', 'operation.completed', 'operation.failed')
                  THEN event #>> '{data,decision,decision}' END AS decision,
           CASE WHEN type IN ('operation.completed', 'statement.completed') AND json_typeof(event #> '{data,masked}') = 'object'
                THEN (SELECT coalesce(sum(m.value::text::numeric), 0) FROM json_each(event #> '{data,masked}') AS m
                       WHERE json_typeof(m.value) = 'number') END AS masked
      FROM audit_event
     WHERE id >= audit_uuid_floor($1::timestamptz) AND id < audit_uuid_floor($2::timestamptz))
  SELECT session_id, min(time) AS started_at, max(time) AS ended_at, count(*) AS events,
         count(DISTINCT request_id) AS operations, count(*) FILTER (WHERE decision = 'deny') AS denied,
         coalesce(sum(masked), 0) AS masked
    FROM e GROUP BY session_id ORDER BY min(time) DESC, session_id DESC LIMIT 51`;

interface Figure {
  name: string;
  query: string;
  p50: number;
  p95: number;
  max: number;
  items: number;
}

async function measure(name: string, runs: number, fn: () => Promise<number>, query = ''): Promise<Figure> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    items = await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const f = {
    name,
    query,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    max: times[times.length - 1],
    items,
  };
  process.stdout.write(`${name.padEnd(48)} p50 ${f.p50.toFixed(1)} ms  p95 ${f.p95.toFixed(1)} ms  (${items} items)\n`);
  return f;
}

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 10_000_000);
  const now = Date.now();
  const idp = await TestIdentityProvider.start();
  const db = await TestDatabase.create('airlock_bench_search');
  const workDir = mkdtempSync(join(tmpdir(), 'airlock-bench-search-'));
  const recorder = new ServiceProcess('recorder', await freePort(), {
    ...db.standaloneRecorderEnv(workDir, `bench-${runId()}`, idp),
    LOG_LEVEL: 'warn',
  });
  const figures: Figure[] = [];
  let generated = { sessions: 0, ms: 0 };
  let before: Figure | undefined;
  let storeSize = { events: '?', summaries: '?' };
  try {
    await recorder.start(); // migrates the database
    process.stdout.write(`database ${db.name}: generating ${events} events\n`);
    generated = await generate(db, events, now);
    const [size] = await db.query<{ events: string; summaries: string }>(
      `SELECT pg_size_pretty((SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits
                               WHERE inhparent = 'audit_event'::regclass)) AS events,
              pg_size_pretty(pg_total_relation_size('audit_session')) AS summaries`,
    );
    storeSize = size;
    process.stdout.write(`store: events ${size.events}, summaries ${size.summaries}\n`);
    const token = await idp.sign({ sub: 'bench-auditor', groups: ['airlock-auditors'] });
    const month = `from=${new Date(now - DAYS * DAY_MS).toISOString()}&to=${new Date(now + 60_000).toISOString()}`;
    const get = async (query: string): Promise<{ items: unknown[]; nextCursor: string | null }> => {
      const res = await fetch(`${recorder.url}/audit/sessions?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status !== 200) throw new Error(`${query}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { items: unknown[]; nextCursor: string | null };
    };
    const page = (query: string) => async () => (await get(query)).items.length;
    const cases: Array<[string, string]> = [
      ['list, last 24 h (default)', ''],
      ['list, 30 days', month],
      ['list, 30 days, 200 per page', `${month}&limit=200`],
      ['principal (a busy one), 30 days', `${month}&principal=agent-0`],
      ['principal (a quiet one), 30 days', `${month}&principal=agent-999`],
      ['principal + issuer, 30 days', `${month}&principal=agent-5&issuer=https://login.example.com`],
      ['connection, 30 days', `${month}&connection=conn-7`],
      ['protocol postgres, 30 days', `${month}&protocol=postgres`],
      ['decision deny (5 %), 30 days', `${month}&decision=deny`],
      ['decision review (1 %), 30 days', `${month}&decision=review`],
      ['decision approved (0.5 %), 30 days', `${month}&decision=approved`],
      ['masked values, 30 days', `${month}&hasMasking=true`],
      ['principal + deny, 30 days', `${month}&principal=agent-0&decision=deny`],
      ['connection + masked, 30 days', `${month}&connection=conn-3&hasMasking=true`],
      ['connection + approved (rare), 30 days', `${month}&connection=conn-3&decision=approved`],
      ['principal (quiet) + approved, 30 days', `${month}&principal=agent-999&decision=approved`],
      [
        'no match: a connection with the protocol it does not have, 30 days (reads all its summaries)',
        `${month}&connection=conn-3&protocol=postgres`,
      ],
      [
        'one hour, 10 days ago',
        `from=${new Date(now - 10 * DAY_MS).toISOString()}&to=${new Date(now - 10 * DAY_MS + 3_600_000).toISOString()}`,
      ],
    ];
    for (const [name, query] of cases) figures.push(await measure(name, RUNS, page(query), query));
    // Keyset paging: the 20th page costs what the first does.
    const deep = async () => {
      let q = `${month}&limit=50`;
      let r = await get(q);
      for (let i = 1; i < 20 && r.nextCursor; i++) {
        q = `${month}&limit=50&cursor=${encodeURIComponent(r.nextCursor)}`;
        r = await get(q);
      }
      return r.items.length;
    };
    const twenty = await measure('20 pages in a row, 30 days (time for all 20)', 10, deep);
    figures.push(twenty);
    const last24 = [new Date(now - DAY_MS).toISOString(), new Date(now).toISOString()];
    before = await measure('before: events added up at query time, last 24 h', 5, async () => {
      return (await db.query(BEFORE_SQL, last24)).length;
    });
  } finally {
    await recorder.stop();
    await idp.stop();
    if (process.env.KEEP_DB === '1') process.stdout.write(`kept database ${db.name}\n`);
    else await db.drop();
  }
  const searches = figures.filter((f) => !f.name.startsWith('20 pages') && !f.name.startsWith('no match'));
  const worst = Math.max(...searches.map((f) => f.p95));
  const noMatch = figures.find((f) => f.name.startsWith('no match'));
  const lines = [
    '# Session list and search on a large audit store',
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}); PostgreSQL, the recorder and this client on the same machine, shared with other work.`,
    `Store: ${events.toLocaleString('en')} events over ${DAYS} days (${EVENTS_PER_SESSION} per session), ` +
      `${generated.sessions.toLocaleString('en')} session summaries, generated with generate_series in ${(generated.ms / 1000).toFixed(0)} s ` +
      `(events ${storeSize.events}, summaries ${storeSize.summaries} with their indexes).`,
    `Summaries: ${PRINCIPALS} principals (skewed: agent-0 busiest), ${CONNECTIONS} connections (each one protocol, 7 in 10 http), ` +
      '1 in 19 sessions with a denial, 1 in 101 held, 1 in 199 approved, 1 in 13 with masked values.',
    `Each figure: ${RUNS} calls of \`GET /audit/sessions\` through the recorder's HTTP API (token verified, default page 50) after ${WARMUP} warm-up calls, one at a time.`,
    '',
    '| search | p50 | p95 | max | items |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...figures.map(
      (f) => `| ${f.name} | ${f.p50.toFixed(1)} ms | ${f.p95.toFixed(1)} ms | ${f.max.toFixed(1)} ms | ${f.items} |`,
    ),
    ...(before
      ? [
          `| ${before.name} (SQL only, ${Math.round(events / DAYS).toLocaleString('en')} events in range) | ${before.p50.toFixed(1)} ms | ${before.p95.toFixed(1)} ms | ${before.max.toFixed(1)} ms | ${before.items} |`,
        ]
      : []),
    '',
    `Goal: session list and search p95 ≤ 200 ms on 10 million events: worst p95 of the listing and the searches that find ` +
      `sessions ${worst.toFixed(1)} ms, **${worst <= 200 && events >= 10_000_000 ? 'met' : 'not met'}**.`,
    ...(noMatch
      ? [
          '',
          `A search whose filters can never meet reads every summary the narrowest index gives in the range before it answers ` +
            `nothing: here all ${Math.round(generated.sessions / CONNECTIONS).toLocaleString('en')} sessions of one connection, ` +
            `p95 ${noMatch.p95.toFixed(1)} ms. It grows with the sessions of one principal or connection in the range.`,
        ]
      : []),
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(`\n${text}`);
  if (process.env.BENCH_NO_RESULT !== '1') {
    const dir = join(repoRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'session-search.md'), text);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
