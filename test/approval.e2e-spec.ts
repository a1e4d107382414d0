import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { Client } from 'pg';
import { encodeCancelRequest } from '@airlock/pg-wire';
import {
  LocalRedis,
  PgUpstreamDatabase,
  SlackSink,
  SmtpSink,
  buttonUrls,
  startLocalInfra,
  waitFor,
  type StoredAuditEvent,
} from '@airlock/testing';
import { TestSystem } from './support/system';

type Json = Record<string, unknown>;
type NoticeMessage = { message?: string; code?: string };

/**
 * Human approval end to end: policy says review, the ingress holds the operation, the approval
 * service notifies a Slack webhook and an SMTP server (local sinks started here), an approver
 * decides through the API, and the held operation runs or is refused. Real Kafka, PostgreSQL and
 * Redis throughout.
 */
describe('human approval of held operations', () => {
  const sys = new TestSystem();
  const tag = randomBytes(4).toString('hex');
  let slack: SlackSink;
  let smtp: SmtpSink;
  let db: PgUpstreamDatabase;
  let agent: string;
  let approver: string;
  let approver2: string;
  let admin: string;
  const startedAt = Date.now();

  beforeAll(async () => {
    slack = await SlackSink.start();
    smtp = await SmtpSink.start();
    await sys.start({
      postgres: true,
      ingressEnv: { APPROVAL_HTTP_WAIT_MS: '5000', APPROVAL_RETRY_AFTER_S: '2' },
      approvalEnv: {
        SLACK_WEBHOOK_URL: slack.url,
        SMTP_URL: smtp.url,
        EMAIL_TO: 'approvers@example.com',
        EMAIL_FROM: 'airlock@example.com',
        NOTIFY_BACKOFF_MS: '300',
        NOTIFY_ATTEMPTS: '10',
        APPROVAL_RESWEEP_MS: '2000',
      },
    });
    db = await PgUpstreamDatabase.create('airlock_rev');
    await db.query(`
      CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric);
      CREATE TABLE scratch (id int PRIMARY KEY, note text);
      INSERT INTO accounts SELECT g, 'owner-' || g, 100 FROM generate_series(1, 20) g;
      INSERT INTO scratch SELECT g, 'n' FROM generate_series(1, 5) g;
    `);
    await sys.addPgConnection('pgreview', db);
    agent = await sys.token('agent-e2e', ['agents']);
    approver = await sys.token('approver-1', ['approvers']);
    approver2 = await sys.token('approver-2', ['finance']);
    admin = await sys.token('admin-e2e', ['airlock-admins']);
  }, 240000);

  afterAll(async () => {
    await sys.stop();
    await db?.drop();
    await slack?.stop();
    await smtp?.stop();
  }, 60000);

  /** The pending approval whose detail mentions `needle`, as an administrator lists it. */
  async function pendingFor(needle: string, timeoutMs = 15000): Promise<Json> {
    return waitFor(
      `a pending approval about ${needle}`,
      async () => {
        const r = await sys.approvalApi('/approvals?state=pending', { token: admin });
        if (r.status !== 200) throw new Error(`list answered ${r.status}: ${r.text}`);
        const list = (Array.isArray(r.body) ? r.body : (r.body.approvals ?? r.body.items)) as Json[];
        return list.find((a) => String(a.detail).includes(needle));
      },
      { timeoutMs },
    );
  }

  async function show(id: string, token = admin): Promise<Json> {
    const r = await sys.approvalApi(`/approvals/${id}`, { token });
    expect(r.status).toBe(200);
    return r.body;
  }

  function decide(id: string, how: 'approve' | 'deny', token: string, comment?: string) {
    return sys.approvalApi(`/approvals/${id}/${how}`, {
      method: 'POST',
      token,
      body: JSON.stringify(comment ? { comment } : {}),
    });
  }

  /** An agent request that is held; resolves with the ingress's answer once there is one. */
  function held(method: string, path: string, token = agent, body?: string) {
    return sys.call(`/c/demo${path}`, { method, token, body });
  }

  async function approvalEvents(approvalId: string, type = 'approval.changed'): Promise<StoredAuditEvent[]> {
    return sys.db.query<StoredAuditEvent>(
      `SELECT * FROM audit_event WHERE type = $2 AND event #>> '{data,approvalId}' = $1 ORDER BY seq`,
      [approvalId, type],
    );
  }

  async function pgClient(): Promise<{ c: Client; notices: NoticeMessage[] }> {
    const c = new Client({
      host: '127.0.0.1',
      port: sys.pgPort,
      database: 'pgreview',
      user: 'agent',
      password: agent,
      ssl: { rejectUnauthorized: false },
    });
    const notices: NoticeMessage[] = [];
    c.on('notice', (n) => notices.push(n));
    c.on('error', () => undefined);
    await c.connect();
    return { c, notices };
  }

  function approvalIdIn(text: string): string {
    const m = /approvals?[/ ]([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(text);
    if (!m) throw new Error(`no approval URL in: ${text}`);
    return m[1];
  }

  describe('HTTP', () => {
    it('holds a request, notifies Slack and e-mail, and forwards it once an approver approves', async () => {
      const path = `/held/items/${tag}-1`;
      const answer = held('DELETE', path);
      const pending = await pendingFor(path);
      const id = String(pending.id);
      // The approver sees the exact request, who asked, where and why.
      const view = await show(id, approver);
      expect(view).toMatchObject({ state: 'pending', connection: 'demo', required: 1 });
      expect(String(view.detail)).toContain(`DELETE ${path}`);
      expect(JSON.stringify(view)).toContain('agent-e2e');
      expect(JSON.stringify(view)).toContain('review-held');

      const msg = await waitFor('the Slack message', () => slack.about(id)[0]);
      expect(msg.text).toContain(path);
      const buttons = buttonUrls(msg);
      expect(buttons.some((u) => u.includes('/approvals/links/'))).toBe(true);
      const mail = await waitFor('the e-mail', () => smtp.about(id)[0]);
      expect(mail.to).toEqual(['approvers@example.com']);
      expect(mail.raw).toContain('/approvals/links/');
      expect(mail.raw).toMatch(/text\/html/);

      const before = sys.upstream.received.length;
      const decided = await decide(id, 'approve', approver, 'looks right');
      expect(decided.status).toBe(200);
      const res = await answer;
      expect(res.status).toBe(200);
      expect(res.body.method).toBe('DELETE');
      expect(res.body.url).toBe(path);
      expect(sys.upstream.received.slice(before).filter((r) => r.url === path)).toHaveLength(1);
      // One notification per channel, however the request went.
      expect(slack.about(id)).toHaveLength(1);
      expect(smtp.about(id)).toHaveLength(1);

      const events = await sys.audit.waitForRequest(res.headers.get('x-airlock-request-id')!, [
        'operation.held',
        'operation.completed',
      ]);
      expect(events.filter((e) => e.type === 'operation.decided')).toHaveLength(1);
      const changes = await waitFor('approval.changed events', async () => {
        const rows = await approvalEvents(id);
        return rows.some((r) => r.event.data.action === 'use') ? rows : undefined;
      });
      expect(changes.map((e) => [e.event.data.action, e.event.data.to])).toEqual([
        ['request', 'pending'],
        ['approve', 'approved'],
        ['use', 'used'],
      ]);
      expect(changes[1].actor_subject).toBe('approver-1');
      expect(changes[1].event.data.reason).toBe('looks right');
    });

    it('shows approvers a long operation whole: the Slack message says it is cut and links to all of it; U+202E shown escaped', async () => {
      const path = `/held/items/${tag}-long`;
      const tail = `tail-${tag}-end`;
      const body = JSON.stringify({ note: `pay to \u202eevil.com\u202c ${'x'.repeat(3500)}`, last: tail });
      const answer = held('POST', path, agent, body);
      const pending = await pendingFor(path);
      const id = String(pending.id);
      // The approval API shows all of it, the override escaped.
      const view = await show(id, approver);
      expect(String(view.detail)).toContain(tail);
      expect(String(view.detail)).toContain('pay to \\u202eevil.com\\u202c');
      expect(String(view.detail)).not.toMatch(/[\u202a-\u202e]/);

      const msg = await waitFor('the Slack message', () => slack.about(id)[0]);
      expect(msg.text).not.toContain(tail);
      expect(msg.text).toMatch(/Cut: this shows the start of an operation of \d+ characters/);
      expect(msg.text).toContain(String(view.url));
      // The sink's text is JSON: the escape shows there as the JSON of a backslash.
      expect(msg.text).toContain(JSON.stringify('pay to \\u202eevil.com\\u202c').slice(1, -1));
      // The notification's short text leads with the request line and its bound headers; it shows no raw override either.
      expect(String(msg.body.text)).not.toMatch(/[\u202a-\u202e]/);
      expect(msg.text).not.toMatch(/[\u202a-\u202e]/);
      await waitFor('the e-mail', () => smtp.about(id)[0]);

      expect((await decide(id, 'deny', approver)).status).toBe(200);
      expect((await answer).status).toBe(403);
    });

    it('refuses a token of a second trusted issuer that carries the admin, approver and auditor group names', async () => {
      const path = `/held/items/${tag}-partner`;
      const answer = held('DELETE', path);
      const id = String((await pendingFor(path)).id);
      const partner = await sys.partnerToken('partner-admin', ['airlock-admins', 'approvers', 'airlock-auditors']);
      // The issuer is trusted: the token itself is good.
      expect(
        (await sys.call('/c/demo/items', { token: await sys.partnerToken('partner-agent', ['agents']) })).status,
      ).toBe(200);
      // None of its groups grants a role.
      expect((await sys.approvalApi(`/approvals/${id}`, { token: partner })).status).toBe(403);
      expect((await decide(id, 'approve', partner)).status).toBe(403);
      const listed = await sys.approvalApi('/approvals?state=pending', { token: partner });
      expect(listed.text).not.toContain(id);
      expect((await sys.approvalApi('/notifications?state=failed', { token: partner })).status).toBe(403);
      expect((await sys.admin('/connections', { token: partner })).status).toBe(403);
      const audit = await fetch(`${sys.recorder.url}/audit/sessions`, {
        headers: { authorization: `Bearer ${partner}` },
      });
      expect(audit.status).toBe(403);
      // The same group names from the first issuer do grant them.
      expect((await sys.admin('/connections')).status).toBe(200);
      const auditor = await sys.token('auditor-1', ['airlock-auditors']);
      expect(
        (await fetch(`${sys.recorder.url}/audit/sessions`, { headers: { authorization: `Bearer ${auditor}` } })).status,
      ).toBe(200);
      expect((await decide(id, 'deny', approver)).status).toBe(200);
      expect((await answer).status).toBe(403);
    });

    it('refuses a denied request with 403 and never forwards it', async () => {
      const path = `/held/items/${tag}-2`;
      const answer = held('DELETE', path);
      const { id } = await pendingFor(path);
      expect((await decide(String(id), 'deny', approver, 'not today')).status).toBe(200);
      const res = await answer;
      expect(res.status).toBe(403);
      expect(res.text).toContain('denied');
      expect(sys.upstream.received.some((r) => r.url === path)).toBe(false);
      const events = await sys.audit.waitForRequest(String(res.body.requestId), ['operation.denied']);
      expect(events.find((e) => e.type === 'operation.denied')?.event.data).toMatchObject({
        approvalId: id,
        approvalState: 'denied',
      });
    });

    it('refuses a request nobody decided on once its approval expires', async () => {
      const path = `/short/${tag}`;
      const started = Date.now();
      const res = await held('POST', path, agent, '{"n":1}');
      expect(res.status).toBe(403);
      expect(res.text).toContain('expired');
      expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
      const id = approvalIdIn(res.text);
      expect((await show(id)).state).toBe('expired');
      // Nothing is approvable past its time.
      expect((await decide(id, 'approve', approver)).status).toBe(409);
      await waitFor('the expiry in the audit store', async () =>
        (await approvalEvents(id)).some((e) => e.event.data.action === 'expire'),
      );
    });

    it('answers 202 with the approval after the wait, and lets the retry through once approved', async () => {
      const path = `/held/items/${tag}-3`;
      const first = await held('POST', path, agent, '{"n":3}');
      expect(first.status).toBe(202);
      expect(first.headers.get('retry-after')).toBe('2');
      expect(first.body).toMatchObject({ status: 'pending_approval', approvalId: expect.any(String) });
      expect(String(first.body.url)).toContain(`/approvals/${String(first.body.approvalId)}`);
      const id = String(first.body.approvalId);
      // The same request again while pending reuses the approval: no second notification.
      const again = await held('POST', path, agent, '{"n":3}');
      expect(again.status).toBe(202);
      expect(again.body.approvalId).toBe(id);
      expect((await decide(id, 'approve', approver)).status).toBe(200);
      const retried = await held('POST', path, agent, '{"n":3}');
      expect(retried.status).toBe(200);
      expect(retried.body.echo).toBe('{"n":3}');
      // A one-time approval runs one request: the next identical one is held again.
      const third = await held('POST', path, agent, '{"n":3}');
      expect(third.status).toBe(202);
      expect(third.body.approvalId).not.toBe(id);
      await waitFor('one Slack message per approval', () => slack.about(String(third.body.approvalId))[0]);
      expect(slack.about(id)).toHaveLength(1);
      // A different body is a different operation, never covered by this approval.
      expect((await held('POST', path, agent, '{"n":4}')).body.approvalId).not.toBe(id);
    });

    it('lets the same request through for the grant window once approved', async () => {
      const path = `/grant/${tag}`;
      const answer = held('POST', path);
      const { id } = await pendingFor(path);
      expect((await decide(String(id), 'approve', approver)).status).toBe(200);
      expect((await answer).status).toBe(200);
      const again = await held('POST', path);
      expect(again.status).toBe(200);
      const view = await show(String(id));
      expect(view.state).toBe('approved');
      expect(view.grantUntil).toEqual(expect.any(String));
    });

    it('never lets the requester approve its own request, nor a non-approver; two approvals where two are needed', async () => {
      const selfApprover = await sys.token('agent-self', ['agents', 'approvers', 'finance']);
      const path = `/payments/${tag}`;
      const answer = held('POST', path, selfApprover, '{"amount":10}');
      const { id } = await pendingFor(path);
      const self = await decide(String(id), 'approve', selfApprover);
      expect(self.status).toBe(403);
      expect(self.text).toMatch(/own request/);
      const outsider = await decide(String(id), 'approve', await sys.token('someone', ['agents']));
      expect(outsider.status).toBe(403);
      const outsiderView = await sys.approvalApi(`/approvals/${String(id)}`, {
        token: await sys.token('someone', ['agents']),
      });
      expect(outsiderView.status).toBe(403);

      expect((await decide(String(id), 'approve', approver)).status).toBe(200);
      const one = await show(String(id));
      expect(one.state).toBe('pending');
      expect((await decide(String(id), 'approve', approver)).status).toBe(409);
      expect((await decide(String(id), 'approve', approver2)).status).toBe(200);
      expect((await answer).status).toBe(200);
      const changes = await waitFor('both votes in the audit store', async () => {
        const rows = await approvalEvents(String(id));
        return rows.filter((e) => e.event.data.action === 'approve').length >= 2 ? rows : undefined;
      });
      expect(changes.filter((e) => e.event.data.action === 'approve').map((e) => e.actor_subject)).toEqual([
        'approver-1',
        'approver-2',
      ]);
    });

    it('takes a signed link once, with an approver token; a replayed or expired link is refused', async () => {
      const path = `/held/items/${tag}-link`;
      const answer = held('DELETE', path);
      const { id } = await pendingFor(path);
      const msg = await waitFor('the Slack message', () => slack.about(String(id))[0]);
      const [approveUrl] = buttonUrls(msg).filter((u) => u.includes('/approvals/links/'));
      // A link alone decides nothing.
      const anonymous = await fetch(approveUrl, { method: 'POST' });
      expect(anonymous.status).toBe(401);
      const used = await sys.approvalApi(approveUrl, { method: 'POST', token: approver });
      expect(used.status).toBe(200);
      expect((await answer).status).toBe(200);
      const replayed = await sys.approvalApi(approveUrl, { method: 'POST', token: approver });
      expect(replayed.status).toBe(410);
      // A signature changed in one character is a forgery (the link's last character only carries padding bits).
      const forged = approveUrl.replace(
        /\.([A-Za-z0-9_-]{5})([A-Za-z0-9_-])/,
        (_m, head: string, c: string) => `.${head}${c === 'A' ? 'B' : 'A'}`,
      );
      expect(forged).not.toBe(approveUrl);
      const tampered = await sys.approvalApi(forged, { method: 'POST', token: approver });
      expect(tampered.status).toBe(403);

      const shortPath = `/short/${tag}-link`;
      const expiring = held('POST', shortPath, agent, '{}');
      const pending = await pendingFor(shortPath);
      const shortMsg = await waitFor('the Slack message', () => slack.about(String(pending.id))[0]);
      const [late] = buttonUrls(shortMsg).filter((u) => u.includes('/approvals/links/'));
      expect((await expiring).status).toBe(403);
      const tooLate = await sys.approvalApi(late, { method: 'POST', token: approver });
      expect(tooLate.status).toBe(410);
    });
  });

  describe('PostgreSQL', () => {
    it('holds a statement with a notice, and runs it once approved', async () => {
      const { c, notices } = await pgClient();
      try {
        const running = c.query('UPDATE accounts SET balance = balance - 5 WHERE id = 1');
        const notice = await waitFor('the notice', () => notices.find((n) => /approval/.test(n.message ?? '')));
        const id = approvalIdIn(notice.message ?? '');
        const view = await show(id, approver);
        expect(String(view.detail)).toContain('UPDATE accounts SET balance = balance - 5 WHERE id = 1');
        await waitFor('the Slack message', () => slack.about(id)[0]);
        await waitFor('the e-mail', () => smtp.about(id)[0]);
        expect((await decide(id, 'approve', approver)).status).toBe(200);
        expect((await running).rowCount).toBe(1);
        expect((await db.query<{ b: string }>('SELECT balance::text AS b FROM accounts WHERE id = 1'))[0].b).toBe('95');
        // The session goes on as usual.
        expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      } finally {
        await c.end();
      }
    });

    it('answers a denied statement with 42501 and the session stays usable', async () => {
      const { c, notices } = await pgClient();
      try {
        const running = c.query('DELETE FROM accounts WHERE id = 2').then(
          () => null,
          (e: { code?: string; message?: string }) => e,
        );
        const notice = await waitFor('the notice', () => notices.find((n) => /approval/.test(n.message ?? '')));
        const id = approvalIdIn(notice.message ?? '');
        expect((await decide(id, 'deny', approver, 'no deletes')).status).toBe(200);
        const err = await running;
        expect(err?.code).toBe('42501');
        expect(err?.message).toContain('denied');
        expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM accounts WHERE id = 2'))[0].n).toBe('1');
        expect((await c.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n).toBe(20);
      } finally {
        await c.end();
      }
    });

    it('answers 42501 when the approval expires', async () => {
      const { c } = await pgClient();
      try {
        const err = await c.query("UPDATE scratch SET note = 'x' WHERE id = 1").then(
          () => null,
          (e: { code?: string; message?: string }) => e,
        );
        expect(err?.code).toBe('42501');
        expect(err?.message).toContain('expired');
        expect((await c.query('SELECT 2 AS two')).rows[0].two).toBe(2);
      } finally {
        await c.end();
      }
    });

    it('cancels the wait and the approval on a CancelRequest', async () => {
      const { c, notices } = await pgClient();
      try {
        const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
        const running = c.query('DELETE FROM accounts WHERE id = 3').then(
          () => null,
          (e: { code?: string }) => e,
        );
        const notice = await waitFor('the notice', () => notices.find((n) => /approval/.test(n.message ?? '')));
        const id = approvalIdIn(notice.message ?? '');
        const key = Buffer.alloc(4);
        key.writeInt32BE(secretKey);
        const s = netConnect({ host: '127.0.0.1', port: sys.pgPort });
        await new Promise<void>((r) => s.once('connect', () => r()));
        s.end(encodeCancelRequest(processID, key));
        expect((await running)?.code).toBe('57014');
        await waitFor('the approval to be cancelled', async () => (await show(id)).state === 'cancelled');
        expect((await decide(id, 'approve', approver)).status).toBe(409);
        expect((await c.query('SELECT 3 AS three')).rows[0].three).toBe(3);
        expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM accounts WHERE id = 3'))[0].n).toBe('1');
      } finally {
        await c.end();
      }
    });
  });

  describe('notification delivery', () => {
    it('waits out a 429 with Retry-After, then delivers once', async () => {
      slack.answer({ status: 429, headers: { 'retry-after': '2' } });
      const path = `/held/items/${tag}-429`;
      void held('DELETE', path).catch(() => undefined);
      const { id } = await pendingFor(path);
      const msg = await waitFor('the Slack message after the rate limit', () => slack.about(String(id))[0], {
        timeoutMs: 20000,
      });
      const limited = slack.attempts.find((a) => a.status === 429 && a.text.includes(String(id)));
      expect(limited).toBeDefined();
      expect(msg.at - limited!.at).toBeGreaterThanOrEqual(1900);
      await new Promise((r) => setTimeout(r, 1500));
      expect(slack.about(String(id))).toHaveLength(1);
      await decide(String(id), 'deny', approver);
    });

    it('delivers an e-mail once the SMTP server is back', async () => {
      await smtp.down();
      const path = `/held/items/${tag}-smtp`;
      void held('DELETE', path).catch(() => undefined);
      const { id } = await pendingFor(path);
      await waitFor('the Slack message', () => slack.about(String(id))[0]);
      await new Promise((r) => setTimeout(r, 1500));
      expect(smtp.about(String(id))).toHaveLength(0);
      await smtp.up();
      await waitFor('the e-mail after the outage', () => smtp.about(String(id))[0], { timeoutMs: 30000 });
      await new Promise((r) => setTimeout(r, 1500));
      expect(smtp.about(String(id))).toHaveLength(1);
      await decide(String(id), 'deny', approver);
    });

    it('records a permanent failure without retrying it, visible through the API and in the audit store', async () => {
      slack.answer({ status: 404, body: 'no_service' });
      const path = `/held/items/${tag}-404`;
      void held('DELETE', path).catch(() => undefined);
      const { id } = await pendingFor(path);
      const failed = await waitFor('the failed notification', async () => {
        const r = await sys.approvalApi('/notifications?state=failed', { token: admin });
        const list = (Array.isArray(r.body) ? r.body : (r.body.notifications ?? r.body.items)) as Json[];
        return list?.find((n) => n.approvalId === id && n.channel === 'slack');
      });
      expect(failed.attempts).toBe(1);
      await new Promise((r) => setTimeout(r, 2000));
      expect(slack.attempts.filter((a) => a.text.includes(String(id)))).toHaveLength(1);
      expect((await sys.approvalApi('/notifications?state=failed', { token: agent })).status).toBe(403);
      await waitFor('approval.notified failed in the store', async () =>
        (await approvalEvents(String(id), 'approval.notified')).find((e) => e.event.data.outcome === 'failed'),
      );
      await decide(String(id), 'deny', approver);
    });

    it('loses nothing and sends nothing twice when Redis restarts with jobs queued', async () => {
      // Every webhook call fails for now: the jobs wait in Redis for their next attempt.
      slack.answer(...Array.from({ length: 6 }, () => ({ status: 503 })));
      const paths = [1, 2, 3].map((n) => `/held/items/${tag}-redis-${n}`);
      for (const p of paths) void held('DELETE', p).catch(() => undefined);
      const ids = await Promise.all(paths.map(async (p) => String((await pendingFor(p)).id)));
      await waitFor('the first failed attempts', () => slack.attempts.filter((a) => a.status === 503).length >= 3);
      await LocalRedis.restart();
      await waitFor(
        'every Slack message after the restart',
        () => ids.every((id) => slack.about(id).length > 0) || undefined,
        { timeoutMs: 60000 },
      );
      await waitFor('every e-mail after the restart', () => ids.every((id) => smtp.about(id).length > 0) || undefined, {
        timeoutMs: 60000,
      });
      await new Promise((r) => setTimeout(r, 2000));
      for (const id of ids) {
        expect({ id, slack: slack.about(id).length, mail: smtp.about(id).length }).toEqual({ id, slack: 1, mail: 1 });
        await decide(id, 'deny', approver);
      }
    }, 180000);
  });

  describe('Redis down when an approval is made', () => {
    it('holds the operation all the same, and notifies once Redis is back', async () => {
      await LocalRedis.kill9();
      const path = `/held/items/${tag}-noredis`;
      let id: string;
      try {
        void held('DELETE', path).catch(() => undefined);
        id = String((await pendingFor(path)).id);
        await new Promise((r) => setTimeout(r, 1000));
        expect(slack.about(id)).toHaveLength(0);
      } finally {
        await startLocalInfra();
      }
      await waitFor('the Slack message once Redis is back', () => slack.about(id)[0], { timeoutMs: 30000 });
      await waitFor('the e-mail once Redis is back', () => smtp.about(id)[0], { timeoutMs: 30000 });
      await new Promise((r) => setTimeout(r, 3000));
      expect({ slack: slack.about(id).length, mail: smtp.about(id).length }).toEqual({ slack: 1, mail: 1 });
      await decide(id, 'deny', approver);
    }, 120000);
  });

  describe('failing closed', () => {
    it('refuses with a clear error when the approval service does not answer', async () => {
      await sys.approval.stop();
      try {
        const res = await held('DELETE', `/held/items/${tag}-down`);
        expect(res.status).toBe(503);
        expect(res.text).toContain('approval service');
        const { c } = await pgClient();
        try {
          const err = await c.query('DELETE FROM accounts WHERE id = 4').then(
            () => null,
            (e: { code?: string; message?: string }) => e,
          );
          expect(err?.code).toBe('57P03');
          expect(err?.message).toContain('approval service');
          expect((await c.query('SELECT 4 AS four')).rows[0].four).toBe(4);
        } finally {
          await c.end();
        }
      } finally {
        await sys.approval.start();
      }
    });
  });

  it('puts every state change in the recorder store', async () => {
    const rows = await sys.db.query<{ action: string; to: string }>(
      `SELECT event #>> '{data,action}' AS action, event #>> '{data,to}' AS to FROM audit_event
        WHERE type = 'approval.changed' AND time >= $1`,
      [new Date(startedAt - 60000).toISOString()],
    );
    const seen = new Set(rows.map((r) => `${r.action}:${r.to}`));
    for (const t of [
      'request:pending',
      'approve:pending',
      'approve:approved',
      'deny:denied',
      'expire:expired',
      'cancel:cancelled',
      'use:used',
    ]) {
      expect({ t, seen: seen.has(t) }).toEqual({ t, seen: true });
    }
  });
});
