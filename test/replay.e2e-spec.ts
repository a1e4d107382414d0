import { randomBytes, randomUUID } from 'node:crypto';
import { waitFor } from '@airlock/testing';
import { TestSystem } from './support/system';

interface SessionItem {
  sessionId: string;
  principal: { issuer: string; subject: string } | null;
  connection: string | null;
  protocol: string;
  startedAt: string;
  endedAt: string;
  events: number;
  operations: number;
  decisions: { allow: number; deny: number; review: number };
  masked: number;
}

interface EventItem {
  chain: number;
  seq: number;
  prevHash: string;
  hash: string;
  event: { id: string; type: string; requestId: string; sessionId: string };
  summary: Record<string, unknown> | null;
}

/**
 * Replay and search of the audit trail through the recorder's API, on the whole system: traffic
 * goes through the ingress, its audit events through Kafka into the store, and the API reads
 * them back. Every test scopes its searches by principals of its own, so other traffic in the
 * store cannot change what it expects.
 */
describe('audit replay and search', () => {
  const sys = new TestSystem();
  const tag = randomBytes(4).toString('hex');
  const alice = `alice-${tag}`;
  const bob = `bob-${tag}`;
  /** alice: three allowed reads in one session; then one denied read. */
  const allowed = randomUUID();
  const denied = randomUUID();
  /** bob: a read whose response is masked; later, after `mark`, an allowed read. */
  const masked = randomUUID();
  const later = randomUUID();
  let mark: string;
  let startedAt: number;
  let auditor: string;

  async function agent(subject: string, sessionId: string, path: string, types: string[]): Promise<number> {
    const res = await sys.call(path, {
      token: await sys.token(subject, ['agents']),
      headers: { 'x-airlock-session-id': sessionId },
    });
    const requestId = res.headers.get('x-airlock-request-id') ?? String(res.body.requestId);
    await sys.audit.waitForRequest(requestId, types);
    return res.status;
  }

  async function api<T = Record<string, unknown>>(
    path: string,
    token: string | null = auditor,
  ): Promise<{ status: number; body: T; text: string; type: string | null }> {
    const res = await fetch(`${sys.recorder.url}${path}`, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    let body = {} as T;
    try {
      body = JSON.parse(text) as T;
    } catch {
      /* NDJSON or empty */
    }
    return { status: res.status, body, text, type: res.headers.get('content-type') };
  }

  /** Every session of a listing, page after page. */
  async function sessions(query: string, limit = 2): Promise<SessionItem[]> {
    const items: SessionItem[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: SessionItem[]; nextCursor: string | null } } = await api(
        `/audit/sessions?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return items;
  }

  const ids = (items: SessionItem[]) => items.map((i) => i.sessionId).sort();

  beforeAll(async () => {
    await sys.start();
    startedAt = Date.now();
    auditor = await sys.token(`auditor-${tag}`, ['airlock-auditors']);
    // A read allowed outright is recorded in one event when it ends.
    const completed = ['operation.completed'];
    for (const n of [1, 2, 3]) expect(await agent(alice, allowed, `/c/demo/items?n=${n}`, completed)).toBe(200);
    expect(
      await agent(alice, denied, '/c/demo/secrets/db-password', [
        'operation.intercepted',
        'operation.decided',
        'operation.denied',
      ]),
    ).toBe(403);

    // A credentialed connection whose policy masks secrets, and an upstream that answers with some.
    const created = await sys.admin('/connections', {
      method: 'POST',
      body: JSON.stringify({ name: 'secure', protocol: 'http', upstream: sys.upstream.url, credentialKind: 'bearer' }),
    });
    expect(created.status).toBe(201);
    const secret = await sys.admin('/connections/secure/secret', {
      method: 'PUT',
      body: JSON.stringify({ token: `credential-${tag}` }),
    });
    expect(secret.status).toBe(200);
    sys.upstream.planted = {
      password: `planted-${tag}`,
      nested: { a: { api_key: `planted-${tag}` } },
    };
    try {
      expect(await agent(bob, masked, '/c/secure/accounts', completed)).toBe(200);
    } finally {
      sys.upstream.planted = {};
    }

    // Event ids carry the time they were made: the events of the masked session were made before
    // they were stored, those of the next one after this mark.
    mark = new Date().toISOString();
    expect(await agent(bob, later, '/c/demo/items', completed)).toBe(200);
  }, 240000);

  afterAll(async () => {
    await sys.stop();
  }, 60000);

  it("replays a session's events in recorded order, across pages", async () => {
    const stored = await sys.audit.bySession(allowed);
    expect(stored).toHaveLength(3);
    const items: EventItem[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: { sessionId: string; items: EventItem[]; nextCursor: string | null } } =
        await api(`/audit/sessions/${allowed}/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.sessionId).toBe(allowed);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(items.map((i) => i.event.id).sort()).toEqual(stored.map((s) => s.id).sort());
    expect(new Set(items.map((i) => i.chain)).size).toBe(1);
    for (let i = 1; i < items.length; i++) expect(items[i].seq).toBeGreaterThan(items[i - 1].seq);
    for (const item of items) {
      expect(item.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(item.event.sessionId).toBe(allowed);
    }
    // Each read is one event that says what was asked, what policy decided and what happened.
    const byRequest = new Map<string, EventItem[]>();
    for (const item of items)
      byRequest.set(item.event.requestId, [...(byRequest.get(item.event.requestId) ?? []), item]);
    expect(byRequest.size).toBe(3);
    for (const ops of byRequest.values()) {
      expect(ops.map((o) => o.event.type)).toEqual(['operation.completed']);
      expect(ops[0].summary).toMatchObject({
        method: 'GET',
        path: '/items',
        decision: 'allow',
        ruleId: 'agents-read',
        status: 200,
        maskedTotal: 0,
      });
    }
  });

  it('summarises a denied and a masked operation', async () => {
    const deniedPage = await api<{ items: EventItem[] }>(`/audit/sessions/${denied}/events`);
    expect(deniedPage.body.items.find((i) => i.event.type === 'operation.decided')?.summary).toMatchObject({
      decision: 'deny',
      ruleId: 'no-secrets',
    });
    const maskedPage = await api<{ items: EventItem[] }>(`/audit/sessions/${masked}/events`);
    const completed = maskedPage.body.items.find((i) => i.event.type === 'operation.completed');
    expect(completed?.summary?.maskedTotal).toBeGreaterThan(0);
  });

  it('lists the sessions of a principal with their figures, newest first', async () => {
    const items = await sessions(`principal=${alice}`, 1);
    expect(items.map((i) => i.sessionId)).toEqual([denied, allowed]);
    expect(items[1]).toMatchObject({
      principal: { issuer: sys.idp.issuer, subject: alice },
      connection: 'demo',
      protocol: 'http',
      events: 3,
      operations: 3,
      decisions: { allow: 3, deny: 0, review: 0 },
      masked: 0,
    });
    expect(items[0]).toMatchObject({ events: 3, operations: 1, decisions: { allow: 0, deny: 1, review: 0 } });
    expect(Date.parse(items[1].startedAt)).toBeLessThanOrEqual(Date.parse(items[1].endedAt));
    const issuer = encodeURIComponent(sys.idp.issuer);
    expect(ids(await sessions(`principal=${alice}&issuer=${issuer}`))).toEqual([allowed, denied].sort());
    expect(await sessions(`principal=${alice}&issuer=${encodeURIComponent('https://elsewhere.test')}`)).toEqual([]);
  });

  it('filters by connection, decision and masking', async () => {
    expect(ids(await sessions(`principal=${bob}&connection=secure`))).toEqual([masked]);
    expect(ids(await sessions(`principal=${bob}&connection=demo`))).toEqual([later]);
    expect(ids(await sessions(`principal=${alice}&decision=deny`))).toEqual([denied]);
    expect(ids(await sessions(`principal=${alice}&decision=allow`))).toEqual([allowed]);
    expect(await sessions(`principal=${alice}&decision=review`)).toEqual([]);
    const withMasking = await sessions(`principal=${bob}&hasMasking=true`);
    expect(ids(withMasking)).toEqual([masked]);
    expect(withMasking[0].masked).toBeGreaterThan(0);
    expect(ids(await sessions(`principal=${bob}&hasMasking=false`))).toEqual([later]);
    expect(ids(await sessions(`principal=${alice}&hasMasking=false`))).toEqual([allowed, denied].sort());
  });

  it('filters by time range', async () => {
    const m = encodeURIComponent(mark);
    expect(ids(await sessions(`principal=${bob}&to=${m}`))).toEqual([masked]);
    expect(ids(await sessions(`principal=${bob}&from=${m}`))).toEqual([later]);
    const before = encodeURIComponent(new Date(startedAt - 3_600_000).toISOString());
    const start = encodeURIComponent(new Date(startedAt).toISOString());
    expect(await sessions(`principal=${bob}&from=${before}&to=${start}`)).toEqual([]);
  });

  it('exports a time range as NDJSON in (chain, seq) order, covering the sessions', async () => {
    const from = encodeURIComponent(new Date(startedAt - 60_000).toISOString());
    const to = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    const res = await api(`/audit/export?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/x-ndjson/);
    expect(res.text.endsWith('\n')).toBe(true);
    const lines = res.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Omit<EventItem, 'summary'>);
    for (let i = 1; i < lines.length; i++) {
      const [a, b] = [lines[i - 1], lines[i]];
      expect(b.chain > a.chain || (b.chain === a.chain && b.seq > a.seq)).toBe(true);
      // Consecutive events of one chain link up.
      if (b.chain === a.chain && b.seq === a.seq + 1) expect(b.prevHash).toBe(a.hash);
    }
    const exported = new Set(lines.map((l) => l.event.id));
    for (const sessionId of [allowed, denied, masked, later]) {
      const stored = await sys.audit.bySession(sessionId);
      expect(stored.length).toBeGreaterThan(0);
      for (const s of stored) expect(exported).toContain(s.id);
    }
  });

  it('answers a missing session with 404 and a malformed request with 400', async () => {
    expect((await api(`/audit/sessions/${randomUUID()}/events`)).body).toMatchObject({ error: 'not_found' });
    const bad = await api('/audit/sessions/not-a-uuid/events');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'bad_request', message: 'sessionId: expected a UUID' });
    expect((await api('/audit/sessions?limit=500')).status).toBe(400);
    expect((await api('/audit/sessions?cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
    const tooLong = await api('/audit/sessions?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z');
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toMatch(/31 days/);
    expect((await api('/audit/export?from=2026-03-01T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(400);
  });

  it('refuses a call without a valid token (401) and one outside the auditor group (403), and audits both', async () => {
    const anonymous = await api('/audit/sessions', null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: 'unauthorized' });
    const agentToken = await sys.token(`nosy-${tag}`, ['agents']);
    const nosy = await api(`/audit/sessions/${allowed}/events`, agentToken);
    expect(nosy.status).toBe(403);
    expect(nosy.body).toMatchObject({ error: 'forbidden' });
    expect((await api('/audit/export', agentToken)).status).toBe(403);

    const refusals = await waitFor('the refusals to be in the audit trail', async () => {
      const rows = await sys.db.query<{ actor_subject: string | null; event: { data: Record<string, string> } }>(
        `SELECT actor_subject, event FROM audit_event
          WHERE type = 'auth.failed' AND source = 'recorder' AND id >= $1::uuid`,
        [
          `${Math.floor(startedAt)
            .toString(16)
            .padStart(12, '0')
            .replace(/^(.{8})(.{4})$/, '$1-$2')}-0000-0000-000000000000`,
        ],
      );
      return rows.length >= 3 ? rows : undefined;
    });
    expect(refusals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor_subject: null,
          event: expect.objectContaining({
            data: expect.objectContaining({ code: 'missing', method: 'GET', path: '/audit/sessions' }),
          }),
        }),
        expect.objectContaining({
          actor_subject: `nosy-${tag}`,
          event: expect.objectContaining({
            data: expect.objectContaining({ code: 'forbidden', path: `/audit/sessions/${allowed}/events` }),
          }),
        }),
      ]),
    );
  });

  it('describes itself publicly as OpenAPI 3.1', async () => {
    const doc = await api<{ openapi: string; paths: Record<string, unknown> }>('/audit/openapi.json', null);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/audit/sessions',
        '/audit/sessions/{sessionId}/events',
        '/audit/export',
        '/audit/verify',
      ]),
    );
  });
});
