import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  AuditTrafficProducer,
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  freePort,
  repoRoot,
  runId,
  syntheticAuditEvent,
  waitFor,
} from '@airlock/testing';
import { uuidv7 } from '@airlock/contracts';
import { eventHash } from '../src/integrity/chain';
import type { VerifyReport } from '../src/integrity/verify';

/**
 * The recorder's store on real Kafka and PostgreSQL: append-only for its own role and by
 * trigger for everyone, chains that verify, tampering and truncation found, retention that drops
 * whole partitions and leaves chains that still verify.
 */
describe('the tamper-evident audit store', () => {
  let idp: TestIdentityProvider;
  let db: TestDatabase;
  let recorder: ServiceProcess;
  let traffic: AuditTrafficProducer;
  let env: Record<string, string>;
  let auditor: string;

  const sessions = Array.from({ length: 24 }, () => uuidv7());

  async function produce(n: number, opts: { at?: number } = {}): Promise<string[]> {
    const events = Array.from({ length: n }, (_, i) => syntheticAuditEvent(sessions[i % sessions.length], opts));
    await traffic.send(events);
    return events.map((e) => e.id);
  }

  async function waitStored(ids: string[]): Promise<void> {
    await waitFor(
      `${ids.length} events stored`,
      async () => {
        const [r] = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_event WHERE id = ANY($1::uuid[])', [
          ids,
        ]);
        return Number(r.n) === ids.length || undefined;
      },
      { timeoutMs: 30_000 },
    );
  }

  async function verify(token: string | null = auditor): Promise<{ status: number; report: VerifyReport }> {
    const res = await fetch(`${recorder.url}/audit/verify`, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    return { status: res.status, report: (await res.json()) as VerifyReport };
  }

  function cli(...args: string[]): { status: number | null; out: Record<string, unknown>; stderr: string } {
    const r = spawnSync('node', [join(repoRoot(), 'dist/services/recorder/src/cli.js'), ...args], {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    let out: Record<string, unknown> = {};
    try {
      out = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      /* not JSON */
    }
    return { status: r.status, out, stderr: r.stderr };
  }

  /** As a superuser who bypasses the triggers: what an attacker with the database's keys can do. */
  async function asSuperuser(sql: string, params: unknown[] = []): Promise<void> {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('SET session_replication_role = replica');
      await c.query(sql, params);
    } finally {
      await c.end();
    }
  }

  async function longestChain(): Promise<{ chain: number; n: number }> {
    const [r] = await db.query<{ chain: number; n: string }>(
      'SELECT chain, count(*) AS n FROM audit_event GROUP BY chain ORDER BY 2 DESC LIMIT 1',
    );
    return { chain: r.chain, n: Number(r.n) };
  }

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    db = await TestDatabase.create('airlock_store');
    const workDir = mkdtempSync(join(tmpdir(), 'airlock-store-'));
    env = { ...db.standaloneRecorderEnv(workDir, `test-${runId()}`, idp), AUDIT_CHECKPOINT_INTERVAL_MS: '300' };
    recorder = await new ServiceProcess('recorder', await freePort(), env).start();
    traffic = new AuditTrafficProducer();
    await traffic.connect();
    auditor = await idp.sign({ sub: 'auditor-e2e', groups: ['airlock-auditors'] });
    await waitStored(await produce(240));
  });

  afterAll(async () => {
    await traffic?.disconnect();
    await recorder?.stop();
    await idp?.stop();
    await db?.drop();
  });

  it('keeps one summary per session that adds up exactly the events stored', async () => {
    const events = await db.query<{ session_id: string; n: string; first_at: Date; last_at: Date }>(
      'SELECT session_id, count(*) AS n, min(time) AS first_at, max(time) AS last_at FROM audit_event GROUP BY session_id ORDER BY 1',
    );
    const summaries = await db.query<{
      session_id: string;
      events: string;
      first_at: Date;
      last_at: Date;
      masked: string;
    }>('SELECT session_id, events, first_at, last_at, masked FROM audit_session ORDER BY 1');
    expect(summaries.map((s) => [s.session_id, Number(s.events), s.first_at.getTime(), s.last_at.getTime()])).toEqual(
      events.map((e) => [e.session_id, Number(e.n), e.first_at.getTime(), e.last_at.getTime()]),
    );
    // Every synthetic event is an operation.completed that masked one value.
    for (const s of summaries) expect(s.masked).toBe(s.events);
  });

  it("refuses UPDATE, DELETE and TRUNCATE to the recorder's own role", async () => {
    const c = new Client({ connectionString: db.recorderUrl });
    await c.connect();
    try {
      const [{ name }] = (
        await c.query<{ name: string }>(
          `SELECT 'audit_event_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') AS name`,
        )
      ).rows;
      for (const sql of [
        `UPDATE audit_event SET type = 'x'`,
        `DELETE FROM audit_event`,
        `TRUNCATE audit_event`,
        `TRUNCATE ${name}`,
        `UPDATE audit_checkpoint SET seq = 0`,
        `DELETE FROM audit_checkpoint`,
        `DROP TABLE ${name}`,
      ]) {
        await expect(c.query(sql)).rejects.toMatchObject({ code: '42501' });
      }
      // What it may do, it can: read.
      await expect(c.query('SELECT count(*) FROM audit_event')).resolves.toBeDefined();
    } finally {
      await c.end();
    }
  });

  it('refuses them to the owner as well, by trigger', async () => {
    // Row triggers fire only on rows: wait for the first signed checkpoint of the stored events.
    await waitFor(
      'a head checkpoint',
      async () =>
        (await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_checkpoint'))[0].n !== '0' || undefined,
    );
    const [{ name }] = await db.query<{ name: string }>(
      `SELECT 'audit_event_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') AS name`,
    );
    for (const sql of [
      `UPDATE audit_event SET type = 'x'`,
      `DELETE FROM audit_event`,
      `TRUNCATE audit_event`,
      `TRUNCATE ${name}`,
      `DELETE FROM audit_checkpoint`,
    ]) {
      await expect(db.query(sql)).rejects.toThrow(/append-only/);
    }
  });

  it('will not run as a role that could rewrite history', async () => {
    const asOwner = new ServiceProcess('recorder', await freePort(), { ...env, DATABASE_URL: db.url });
    await expect(asOwner.start({ healthTimeoutMs: 20_000 })).rejects.toThrow();
    expect(asOwner.logs).toMatch(/must write as a role that does not own the audit tables/);
  });

  it('verifies untouched chains, over REST and from the command line', async () => {
    const { status, report } = await verify();
    expect(status).toBe(200);
    expect(report.ok).toBe(true);
    // The 240 events sent, and the recorder's own audit of the refused calls above.
    const [{ n }] = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_event');
    expect(Number(n)).toBeGreaterThanOrEqual(240);
    expect(report.chains.reduce((sum, c) => sum + c.verified, 0)).toBe(Number(n));
    expect(report.chains.every((c) => c.anchor.kind === 'genesis' && c.brokenAt === null)).toBe(true);
    const run = cli('verify');
    expect({ status: run.status, ok: run.out.ok }).toEqual({ status: 0, ok: true });
  });

  it('keeps an event sent twice (a producer retry, a new offset) once, and the chain stays whole', async () => {
    const event = syntheticAuditEvent(sessions[1]);
    await traffic.send([event]);
    await waitStored([event.id]);
    const statsOf = async () => (await (await fetch(`${recorder.url}/audit/stats`)).json()) as Record<string, number>;
    const before = await statsOf();
    await traffic.send([event]);
    await waitFor(
      'the second copy to be seen',
      async () => (await statsOf()).duplicates > before.duplicates || undefined,
    );
    expect(await db.query('SELECT id FROM audit_event WHERE id = $1', [event.id])).toHaveLength(1);
    expect((await verify()).report.ok).toBe(true);
  });

  it('retries a batch the database refused, from that batch: nothing skipped, order kept', async () => {
    const role = new URL(db.recorderUrl).username;
    await db.query(`REVOKE INSERT ON audit_event FROM ${role}`);
    const sent: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const events = Array.from({ length: 20 }, () => syntheticAuditEvent(sessions[2]));
        await traffic.send(events);
        sent.push(...events.map((e) => e.id));
        await new Promise((r) => setTimeout(r, 200));
      }
      await waitFor(
        'a refused store in the recorder log',
        async () => /audit window not stored/.test(recorder.logs) || undefined,
      );
    } finally {
      await db.query(`GRANT INSERT ON audit_event TO ${role}`);
    }
    await waitStored(sent);
    const stored = await db.query<{ id: string }>(
      'SELECT id FROM audit_event WHERE id = ANY($1::uuid[]) ORDER BY seq',
      [sent],
    );
    expect(stored.map((r) => r.id)).toEqual(sent);
    expect(recorder.logs).not.toMatch(/audit stream gap/);
    expect((await verify()).report.ok).toBe(true);
  });

  it('names exactly the row whose data a superuser edited, and the next one when its hash is rewritten too', async () => {
    const { chain } = await longestChain();
    const [victim] = await db.query<{ id: string; seq: string; event: Record<string, unknown>; prev_hash: Buffer }>(
      'SELECT id, seq, event, prev_hash FROM audit_event WHERE chain = $1 AND seq = 5',
      [chain],
    );
    const edited = { ...victim.event, connection: 'prod-db' };
    await asSuperuser('UPDATE audit_event SET event = $2 WHERE id = $1', [victim.id, JSON.stringify(edited)]);
    try {
      const { report } = await verify();
      expect(report.ok).toBe(false);
      const broken = report.chains.filter((c) => !c.ok);
      expect(broken.map((c) => ({ chain: c.chain, seq: c.brokenAt?.seq, id: c.brokenAt?.eventId }))).toEqual([
        { chain, seq: '5', id: victim.id },
      ]);
      expect(broken[0].brokenAt?.reason).toMatch(/hash does not match/);

      // A careful attacker recomputes the edited row's hash: the next link no longer fits.
      await asSuperuser('UPDATE audit_event SET hash = $2 WHERE id = $1', [
        victim.id,
        eventHash(victim.prev_hash, edited),
      ]);
      const again = (await verify()).report.chains.find((c) => c.chain === chain);
      expect({ seq: again?.brokenAt?.seq, reason: again?.brokenAt?.reason }).toEqual({
        seq: '6',
        reason: 'previous hash does not match the hash of the link before',
      });
    } finally {
      await asSuperuser('UPDATE audit_event SET event = $2, hash = $3 WHERE id = $1', [
        victim.id,
        JSON.stringify(victim.event),
        eventHash(victim.prev_hash, victim.event),
      ]);
    }
    expect((await verify()).report.ok).toBe(true);
  });

  it('drops whole expired partitions with a signed checkpoint, and the chains still verify and grow', async () => {
    const before = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_event'))[0].n);
    // Three days ahead, keeping one day: today's and tomorrow's partitions have expired.
    const now = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const run = cli('retention', '--days', '1', '--now', now);
    expect(run.status).toBe(0);
    const dropped = run.out.dropped as { name: string; events: number }[];
    expect(dropped.reduce((n, d) => n + d.events, 0)).toBe(before);
    expect(await db.query('SELECT 1 FROM audit_event')).toHaveLength(0);
    // The summaries of sessions with nothing left to replay went with them.
    expect(await db.query('SELECT 1 FROM audit_session')).toHaveLength(0);
    const checkpoints = await db.query<{ chain: number; seq: string }>(
      `SELECT chain, seq FROM audit_checkpoint WHERE kind = 'retention'`,
    );
    expect(checkpoints.length).toBe(run.out.checkpoints);

    const emptied = await verify();
    expect(emptied.report.ok).toBe(true);
    expect(emptied.report.chains.every((c) => c.anchor.kind === 'retention' && c.verified === 0)).toBe(true);

    // Ingest carries on: the day's partition is made again and the chains continue.
    const ids = await produce(120);
    await waitStored(ids);
    const { report } = await verify();
    expect(report.ok).toBe(true);
    const [{ n }] = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_event');
    expect(Number(n)).toBeGreaterThanOrEqual(120);
    expect(report.chains.reduce((sum, c) => sum + c.verified, 0)).toBe(Number(n));
    for (const c of report.chains.filter((x) => x.verified > 0)) {
      const cp = checkpoints.find((k) => k.chain === c.chain);
      expect({ chain: c.chain, anchor: c.anchor }).toEqual({
        chain: c.chain,
        anchor: { kind: 'retention', seq: cp?.seq },
      });
    }
  });

  it('keeps a late event, stored after newer ones, whose partition would leave a hole', async () => {
    // Ten days old, but recorded now: its link comes after today's links in its chain.
    const late = syntheticAuditEvent(sessions[0], { at: Date.now() - 10 * 86_400_000 });
    await traffic.send([late]);
    await waitStored([late.id]);
    const run = cli('retention', '--days', '5');
    expect(run.status).toBe(0);
    expect(run.out).toMatchObject({ dropped: [], checkpoints: 0 });
    expect((run.out.held as string[]).length).toBe(1);
    expect((await verify()).report.ok).toBe(true);
  });

  it('finds a deleted tail through the signed checkpoint, even with the chain head rewound', async () => {
    const ids = await produce(60);
    await waitStored(ids);
    const { chain } = await longestChain();
    const [head] = await db.query<{ seq: string }>('SELECT seq FROM audit_chain_head WHERE chain = $1', [chain]);
    await waitFor(
      'a checkpoint of the chain head',
      async () =>
        (
          await db.query(`SELECT 1 FROM audit_checkpoint WHERE kind = 'head' AND chain = $1 AND seq = $2`, [
            chain,
            head.seq,
          ])
        ).length > 0 || undefined,
    );
    const keep = BigInt(head.seq) - 3n;
    await asSuperuser('DELETE FROM audit_event WHERE chain = $1 AND seq > $2', [chain, keep.toString()]);
    await asSuperuser(
      `UPDATE audit_chain_head SET seq = $2, hash = (SELECT hash FROM audit_event WHERE chain = $1 AND seq = $2) WHERE chain = $1`,
      [chain, keep.toString()],
    );
    const { report } = await verify();
    expect(report.ok).toBe(false);
    const c = report.chains.find((x) => x.chain === chain);
    expect(c?.brokenAt).toBeNull();
    expect(c?.truncated).toMatchObject({ expectedSeq: head.seq, lastSeq: keep.toString() });
    expect(cli('verify', '--chain', String(chain)).status).toBe(2);
  });

  // Last: the recorder audits refused calls, and those events land in this store too.
  it('asks for an auditor: no token is 401, a token without the auditor group is 403', async () => {
    expect((await verify(null)).status).toBe(401);
    expect((await verify(await idp.sign({ sub: 'agent-e2e', groups: ['agents'] }))).status).toBe(403);
  });
});
