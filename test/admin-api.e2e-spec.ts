import { randomBytes } from 'node:crypto';
import { waitFor } from '@airlock/testing';
import { findIn } from './support/scanner';
import { TestSystem } from './support/system';

type Json = Record<string, unknown>;

/**
 * The admin APIs the console and the CLI use, against the whole running system: the policy
 * service's document, validate and dry run; the vault's rotation record and write-only secrets;
 * the approvals an approver sees and the requester's refusal; the recorder's session summaries
 * kept at ingest. Every route's role check (401 without a token, 403 without the role).
 */
describe('admin APIs for the console and the CLI', () => {
  const sys = new TestSystem();
  const tag = randomBytes(4).toString('hex');
  let admin: string;
  let admin2: string;
  let agent: string;
  let auditor: string;
  let approver: string;
  let partnerAdmin: string;

  beforeAll(async () => {
    await sys.start();
    admin = await sys.token('admin-e2e', ['airlock-admins']);
    admin2 = await sys.token('admin-two', ['airlock-admins']);
    agent = await sys.token('agent-e2e', ['agents']);
    auditor = await sys.token('auditor-e2e', ['airlock-auditors']);
    approver = await sys.token('approver-1', ['approvers']);
    partnerAdmin = await sys.partnerToken('admin-e2e', ['airlock-admins', 'airlock-auditors']);
  }, 240000);

  afterAll(async () => {
    await sys.stop();
  }, 60000);

  async function call(
    url: string,
    token: string | null,
    init: RequestInit = {},
  ): Promise<{ status: number; body: Json; text: string }> {
    const headers = new Headers(init.headers);
    if (token !== null) headers.set('authorization', `Bearer ${token}`);
    if (init.body) headers.set('content-type', 'application/json');
    const res = await fetch(url, { ...init, headers });
    const text = await res.text();
    let body: Json = {};
    try {
      body = JSON.parse(text) as Json;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, text };
  }

  const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });

  it('describes every admin API in OpenAPI 3.1, without a token', async () => {
    const docs: Array<[string, string[]]> = [
      [`${sys.policy.url}/policy/openapi.json`, ['/policy/document', '/policy/validate', '/policy/dry-run']],
      [`${sys.vault.url}/connections/openapi.json`, ['/connections', '/connections/{name}/secret']],
      [`${sys.approval.url}/approvals/openapi.json`, ['/approvals', '/approvals/{id}/approve']],
      [`${sys.recorder.url}/audit/openapi.json`, ['/audit/sessions', '/audit/sessions/{sessionId}']],
    ];
    for (const [url, paths] of docs) {
      const r = await call(url, null);
      expect(r.status).toBe(200);
      expect(r.body.openapi).toBe('3.1.0');
      expect(Object.keys(r.body.paths as Json)).toEqual(expect.arrayContaining(paths));
    }
  });

  describe('policy service', () => {
    const dryRun = (token: string | null, body: unknown) => call(`${sys.policy.url}/policy/dry-run`, token, post(body));

    it('refuses the admin routes without a token (401) and without the policy admin role (403)', async () => {
      for (const [method, path] of [
        ['GET', '/policy/document'],
        ['POST', '/policy/validate'],
        ['POST', '/policy/dry-run'],
      ]) {
        const init = method === 'POST' ? post({}) : {};
        expect((await call(`${sys.policy.url}${path}`, null, init)).status).toBe(401);
        expect((await call(`${sys.policy.url}${path}`, 'not.a.token', init)).status).toBe(401);
        const agentAnswer = await call(`${sys.policy.url}${path}`, agent, init);
        expect(agentAnswer.status).toBe(403);
        expect(agentAnswer.body.message).toMatch(/policy administrator/);
        // The same group name from another trusted issuer grants nothing.
        expect((await call(`${sys.policy.url}${path}`, partnerAdmin, init)).status).toBe(403);
      }
    });

    it('shows the policy in force with its rules', async () => {
      const r = await call(`${sys.policy.url}/policy/document`, admin);
      expect(r.status).toBe(200);
      expect(r.body.id).toBe('e2e');
      expect(typeof r.body.version).toBe('string');
      const rules = r.body.rules as Json[];
      expect(rules.find((x) => x.id === 'review-held')).toMatchObject({
        effect: 'review',
        approval: { approverGroups: ['approvers'], required: 1 },
      });
    });

    it('validates a document and names every problem in words, applying nothing', async () => {
      const before = (await call(`${sys.policy.url}/policy`, null)).body;
      const good = await call(
        `${sys.policy.url}/policy/validate`,
        admin,
        post({ document: 'id: trial\nversion: t1\nrules:\n  - id: r\n    effect: allow\n    connections: [x]\n' }),
      );
      expect(good.status).toBe(200);
      expect(good.body).toEqual({ valid: true, id: 'trial', version: 't1', rules: 1 });
      const bad = await call(
        `${sys.policy.url}/policy/validate`,
        admin,
        post({
          document:
            'rules:\n  - id: r\n    effect: maybe\n  - id: r\n    effect: deny\n    sql: { commands: [TRUNCATE TABLES] }\n',
        }),
      );
      expect(bad.status).toBe(200);
      expect(bad.body.valid).toBe(false);
      const errors = bad.body.errors as string[];
      expect(errors.some((e) => /^rules\.0\.effect: /.test(e))).toBe(true);
      expect(errors.some((e) => /TRUNCATE TABLES/.test(e))).toBe(true);
      expect((await call(`${sys.policy.url}/policy/validate`, admin, post({ document: ': : [' }))).body).toMatchObject({
        valid: false,
        errors: [expect.stringMatching(/not valid YAML/)],
      });
      expect((await call(`${sys.policy.url}/policy/validate`, admin, post({}))).status).toBe(400);
      expect((await call(`${sys.policy.url}/policy`, null)).body).toEqual(before);
    });

    it('dry-runs SQL with the real classification and evaluation', async () => {
      const unbounded = await dryRun(admin, {
        principal: { issuer: sys.idp.issuer, subject: 'agent-e2e', groups: ['agents'] },
        connection: 'pgdb',
        sql: 'DELETE FROM accounts',
      });
      expect(unbounded.status).toBe(200);
      expect(unbounded.body).toMatchObject({ decision: 'deny', ruleId: 'pg-unbounded', policy: { id: 'e2e' } });
      const op = unbounded.body.operation as { statements: Json[] };
      expect(op.statements[0]).toMatchObject({
        command: 'DELETE',
        class: 'write',
        tables: ['public.accounts'],
        risks: ['write-without-where'],
      });
      const nobody = await dryRun(admin, {
        principal: { subject: 'stranger' },
        connection: 'pgdb',
        sql: 'SELECT 1',
      });
      expect(nobody.body.decision).toBe('deny');
      expect(nobody.body.ruleId).toBeNull();
    });

    it('dry-runs an HTTP request, with the approval a review needs', async () => {
      const held = await dryRun(admin, {
        principal: { issuer: sys.idp.issuer, subject: 'agent-e2e', groups: ['agents'] },
        connection: 'demo',
        http: { method: 'delete', path: '/held/1', query: 'force=yes' },
      });
      expect(held.status).toBe(200);
      expect(held.body).toMatchObject({
        decision: 'review',
        ruleId: 'review-held',
        approval: { approverGroups: ['approvers'], required: 1, expiresInSeconds: 120 },
        operation: { kind: 'http', method: 'DELETE', path: '/held/1', query: [{ name: 'force', value: 'yes' }] },
      });
      const read = await dryRun(admin, {
        principal: { subject: 'agent-e2e', groups: ['agents'] },
        connection: 'demo',
        http: { method: 'GET', path: '/items' },
      });
      expect(read.body).toMatchObject({ decision: 'allow', ruleId: 'agents-read' });
    });

    it('refuses a malformed dry run, naming the field', async () => {
      const both = await dryRun(admin, {
        principal: { subject: 'a' },
        connection: 'demo',
        sql: 'SELECT 1',
        http: { method: 'GET', path: '/' },
      });
      expect(both.status).toBe(400);
      expect(both.body.message).toMatch(/either sql .* or http/);
      const badConnection = await dryRun(admin, { principal: { subject: 'a' }, connection: 'Bad Name', sql: 'x' });
      expect(badConnection.status).toBe(400);
      expect(badConnection.body.message).toMatch(/^connection: /);
    });
  });

  describe('credential vault', () => {
    it('records who rotated a secret last and when; no answer ever carries the secret', async () => {
      const name = `rot-${tag}`;
      const canary = `canary-${randomBytes(8).toString('hex')}`;
      const answers: string[] = [];
      const vault = async (path: string, token: string, init: RequestInit = {}) => {
        const r = await call(`${sys.vault.url}${path}`, token, init);
        answers.push(r.text);
        return r;
      };
      const created = await vault(
        '/connections',
        admin,
        post({ name, protocol: 'http', upstream: 'https://api.example/', credentialKind: 'bearer' }),
      );
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ secretVersion: null, secretSetAt: null, secretSetBy: null });
      const put = (token: string, secret: string) =>
        vault(`/connections/${name}/secret`, token, { method: 'PUT', body: JSON.stringify({ token: secret }) });
      expect((await put(admin, `${canary}-1`)).status).toBe(200);
      const second = await put(admin2, `${canary}-2`);
      expect(second.body).toEqual({ connection: name, secretVersion: 2 });
      const shown = await vault(`/connections/${name}`, admin);
      expect(shown.body).toMatchObject({
        secretVersion: 2,
        secretSetBy: { issuer: sys.idp.issuer, subject: 'admin-two' },
        createdBy: { issuer: sys.idp.issuer, subject: 'admin-e2e' },
      });
      expect(Date.parse(String(shown.body.secretSetAt))).toBeGreaterThan(
        Date.parse(String(created.body.createdAt)) - 1,
      );
      const listed = await vault('/connections', admin);
      expect((listed.body.connections as Json[]).find((c) => c.name === name)).toMatchObject({ secretVersion: 2 });
      // A misspelt field is refused without echoing the value.
      expect(
        (await vault(`/connections/${name}/secret`, admin, { method: 'PUT', body: JSON.stringify({ tokn: canary }) }))
          .status,
      ).toBe(400);
      expect((await vault(`/connections/nope-${tag}`, admin)).status).toBe(404);
      // The scanner finds the canary where it was put on purpose...
      expect(findIn('request body', JSON.stringify({ token: `${canary}-2` }), [canary])).not.toHaveLength(0);
      // ...and in no answer.
      expect(answers.flatMap((a, i) => findIn(`answer ${i}`, a, [canary]))).toEqual([]);
    });

    it('refuses the admin API without a token and without the admin role', async () => {
      expect((await call(`${sys.vault.url}/connections`, null)).status).toBe(401);
      expect((await call(`${sys.vault.url}/connections`, agent)).status).toBe(403);
      expect((await call(`${sys.vault.url}/connections`, partnerAdmin)).status).toBe(403);
    });
  });

  describe('approvals', () => {
    it('shows approvers the whole operation, votes and expiry, and never lets the requester decide', async () => {
      // The requester is also in the approver group: still it may not decide its own request.
      const requester = await sys.token('self-approver', ['agents', 'approvers']);
      const pending = sys.call(`/c/demo/held/${tag}?reason=cleanup`, { method: 'DELETE', token: requester });
      const approval = await waitFor('the held request to be pending', async () => {
        const r = await call(`${sys.approval.url}/approvals?state=pending`, approver);
        return (r.body.approvals as Json[]).find((a) => String(a.detail).includes(`/held/${tag}`));
      });
      expect(approval).toMatchObject({
        state: 'pending',
        principal: { issuer: sys.idp.issuer, subject: 'self-approver' },
        connection: 'demo',
        protocol: 'http',
        ruleId: 'review-held',
        approverGroups: ['approvers'],
        required: 1,
        approvals: [],
        denial: null,
      });
      expect(String(approval.detail)).toMatch(new RegExp(`^DELETE /held/${tag}\\?reason=cleanup`));
      expect(Date.parse(String(approval.expiresAt))).toBeGreaterThan(Date.now());
      const id = String(approval.id);

      const self = await call(`${sys.approval.url}/approvals/${id}/approve`, requester, post({}));
      expect(self.status).toBe(403);
      expect(self.body.message).toMatch(/requester cannot approve its own request/);
      expect((await call(`${sys.approval.url}/approvals/${id}/deny`, requester, post({}))).status).toBe(403);
      expect((await call(`${sys.approval.url}/approvals/${id}`, approver)).body.state).toBe('pending');

      expect((await call(`${sys.approval.url}/approvals/${id}`, null)).status).toBe(401);
      expect((await call(`${sys.approval.url}/approvals/${id}`, agent)).status).toBe(403);
      const yes = await call(`${sys.approval.url}/approvals/${id}/approve`, approver, post({ comment: 'fine' }));
      expect(yes.status).toBe(200);
      expect(yes.body).toMatchObject({
        state: 'approved',
        approvals: [{ approver: { subject: 'approver-1' }, comment: 'fine', via: 'api' }],
      });
      expect((await pending).status).not.toBe(403);
      const approved = await call(`${sys.approval.url}/approvals?state=used`, approver);
      const states = await call(`${sys.approval.url}/approvals?state=approved`, approver);
      expect(
        [...(approved.body.approvals as Json[]), ...(states.body.approvals as Json[])].some((a) => a.id === id),
      ).toBe(true);
    });
  });

  describe('recorder', () => {
    it('summarises sessions at ingest and searches them by principal, decision and connection', async () => {
      const subject = `summary-${tag}`;
      const token = await sys.token(subject, ['agents']);
      expect((await sys.call('/c/demo/items', { token })).status).toBe(200);
      expect((await sys.call('/c/demo/secrets/x', { token })).status).toBe(403);
      const sessions = async (query: string, as = auditor) => call(`${sys.recorder.url}/audit/sessions?${query}`, as);
      const found = await waitFor(
        'both sessions summarised',
        async () => {
          const r = await sessions(`principal=${subject}`);
          const items = r.body.items as Json[];
          const decided = items.filter((s) => (s.decisions as Json).allow === 1 || (s.decisions as Json).deny === 1);
          return decided.length === 2 ? items : undefined;
        },
        { timeoutMs: 30000, intervalMs: 300 },
      );
      for (const s of found) {
        expect(s).toMatchObject({
          principal: { issuer: sys.idp.issuer, subject },
          connection: 'demo',
          protocol: 'http',
        });
        expect(Number(s.operations)).toBeGreaterThanOrEqual(1);
        expect(Date.parse(String(s.endedAt))).toBeGreaterThanOrEqual(Date.parse(String(s.startedAt)));
      }
      const denied = (await sessions(`principal=${subject}&decision=deny`)).body.items as Json[];
      expect(denied).toHaveLength(1);
      expect(denied[0].decisions).toMatchObject({ deny: 1, allow: 0, approved: 0 });
      expect(((await sessions(`principal=${subject}&connection=down`)).body.items as Json[]).length).toBe(0);
      expect(((await sessions(`principal=${subject}&protocol=postgres`)).body.items as Json[]).length).toBe(0);
      expect(((await sessions(`principal=${subject}&hasMasking=true`)).body.items as Json[]).length).toBe(0);

      const first = await sessions(`principal=${subject}&limit=1`);
      expect((first.body.items as Json[]).length).toBe(1);
      const next = await sessions(
        `principal=${subject}&limit=1&cursor=${encodeURIComponent(String(first.body.nextCursor))}`,
      );
      expect((next.body.items as Json[]).length).toBe(1);
      expect((next.body.items as Json[])[0].sessionId).not.toBe((first.body.items as Json[])[0].sessionId);
      expect(next.body.nextCursor).toBeNull();

      const one = await call(`${sys.recorder.url}/audit/sessions/${String(denied[0].sessionId)}`, auditor);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(denied[0]);
      const missing = await call(`${sys.recorder.url}/audit/sessions/019abcde-0000-7000-8000-00000000dead`, auditor);
      expect(missing.status).toBe(404);
    });

    it('answers every chain verified, and refuses callers without the auditor role', async () => {
      const v = await call(`${sys.recorder.url}/audit/verify`, auditor);
      expect(v.status).toBe(200);
      expect(v.body.ok).toBe(true);
      for (const c of v.body.chains as Json[]) expect(c).toMatchObject({ ok: true, brokenAt: null });
      for (const path of ['/audit/sessions', '/audit/sessions/019abcde-0000-7000-8000-00000000dead', '/audit/verify']) {
        expect((await call(`${sys.recorder.url}${path}`, null)).status).toBe(401);
        expect((await call(`${sys.recorder.url}${path}`, admin)).status).toBe(403);
        expect((await call(`${sys.recorder.url}${path}`, partnerAdmin)).status).toBe(403);
      }
    });
  });
});
