import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { Topics } from '@airlock/contracts';
import { consumerLag, waitFor } from '@airlock/testing';
import { TestSystem } from './support/system';

/**
 * One request through the whole Kafka spine: ingress → policy (request/reply) → upstream, with
 * the audit trail on `airlock.audit` stored by the recorder. Real Kafka, PostgreSQL and Redis.
 */
describe('the HTTP spine, end to end', () => {
  const sys = new TestSystem();

  beforeAll(async () => {
    await sys.start();
  }, 180000);

  afterAll(async () => {
    await sys.stop();
  }, 60000);

  it('forwards an allowed request to the upstream, never with the agent credential, and records it exactly once', async () => {
    const before = sys.upstream.received.length;
    const res = await sys.call('/c/demo/items?limit=2', {
      headers: { cookie: 'session=agent-cookie', 'x-custom': 'kept' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, method: 'GET', url: '/items?limit=2' });
    expect(res.headers.get('x-upstream')).toBe('echo');

    const reached = sys.upstream.received.slice(before);
    expect(reached).toHaveLength(1);
    expect(reached[0].headers.authorization).toBeUndefined();
    expect(reached[0].headers.cookie).toBeUndefined();
    expect(reached[0].headers['x-custom']).toBe('kept');

    const requestId = res.headers.get('x-airlock-request-id')!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    // A read allowed outright is recorded in one event, after it ends: the operation, the
    // decision and the outcome together.
    const events = await sys.audit.waitForRequest(requestId, ['operation.completed']);
    expect(events.map((e) => e.type)).toEqual(['operation.completed']);
    for (const e of events) {
      expect(e.actor_issuer).toBe(sys.idp.issuer);
      expect(e.actor_subject).toBe('agent-e2e');
      expect(e.connection).toBe('demo');
    }
    const completed = events.find((e) => e.type === 'operation.completed')!;
    expect(completed.event.data).toMatchObject({
      operation: { kind: 'http', method: 'GET', path: '/items' },
      decision: { decision: 'allow', ruleId: 'agents-read' },
    });
    expect(completed.event.data).toMatchObject({ status: 200, bytesOut: res.text.length });
  });

  it('streams a request body upstream byte for byte', async () => {
    const payload = JSON.stringify({ name: 'x'.repeat(5000), n: 1 });
    const res = await sys.call('/c/demo/items', {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(res.body.echo).toBe(payload);
    // Anything that can change data is on the stream before it runs, in its own events.
    const events = await sys.audit.waitForRequest(res.headers.get('x-airlock-request-id')!, [
      'operation.intercepted',
      'operation.decided',
      'operation.completed',
    ]);
    expect(events.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided', 'operation.completed']);
    expect(events[2].event.data).not.toHaveProperty('decision');
  });

  it('answers a denied request with 403 and its reason, never reaches the upstream, and records it once', async () => {
    const before = sys.upstream.received.length;
    const res = await sys.call('/c/demo/secrets/db-password');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'denied', message: 'no-secrets: the secrets API is off limits' });
    const other = await sys.call('/c/demo/items', { method: 'DELETE' });
    expect(other.status).toBe(403);
    expect(other.body.message).toBe('no rule allows DELETE /items on connection demo');
    expect(sys.upstream.received.length).toBe(before);

    const events = await sys.audit.waitForRequest(String(res.body.requestId), [
      'operation.intercepted',
      'operation.decided',
      'operation.denied',
    ]);
    expect(events).toHaveLength(3);
    expect(events.every((e) => e.actor_subject === 'agent-e2e' && e.actor_issuer === sys.idp.issuer)).toBe(true);
    expect(events.find((e) => e.type === 'operation.decided')!.event.data).toMatchObject({
      decision: 'deny',
      ruleId: 'no-secrets',
    });
  });

  it('refuses an unknown connection and an ambiguous path, auditing both', async () => {
    // Policy decides before anything is looked up: no rule names it, so it is denied.
    const unlisted = await sys.call('/c/nowhere/x');
    expect(unlisted.status).toBe(403);
    // A name that cannot be a connection is refused before policy.
    const unknown = await sys.call('/c/Not_A*Name/x');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('unknown_connection');
    // fetch would resolve dot segments itself; a raw request sends them as they are.
    const dotted = await rawGet(`${sys.ingress.url}/c/demo/items/../secrets/x`, await sys.token());
    expect(dotted.status).toBe(400);
    expect(dotted.body.error).toBe('bad_path');
    const encoded = await sys.call('/c/demo/items%2F..%2Fsecrets');
    expect(encoded.status).toBe(400);
    expect(encoded.body.message).toMatch(/encoded/);
    for (const r of [unknown, dotted, encoded]) {
      const events = await sys.audit.waitForRequest(String(r.body.requestId), ['operation.failed']);
      expect(events.find((e) => e.type === 'operation.failed')!.event.data).toMatchObject({ stage: 'routing' });
    }
  });

  it('answers 502 when the upstream is down, and audits the failure', async () => {
    const res = await sys.call('/c/down/anything');
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('upstream_unavailable');
    const events = await sys.audit.waitForRequest(String(res.body.requestId), ['operation.failed']);
    expect(events.map((e) => e.type)).toEqual(['operation.failed']);
    expect(events[0].event.data).toMatchObject({ stage: 'upstream', status: 502, decision: { decision: 'allow' } });
  });

  describe('every bad credential gets 401 with a clear JSON error and an audit event', () => {
    const cases: [string, () => Promise<string | null>, string][] = [
      ['no token', async () => null, 'missing'],
      ['malformed token', async () => sys.idp.malformed(), 'malformed'],
      ['expired', () => sys.idp.expired({ sub: 'agent-e2e', groups: ['agents'] }), 'expired'],
      [
        'not yet valid',
        () => sys.idp.sign({ sub: 'agent-e2e', groups: ['agents'], notBeforeSeconds: 3600 }),
        'not_yet_valid',
      ],
      ['wrong issuer', () => sys.idp.wrongIssuer({ sub: 'agent-e2e' }), 'untrusted_issuer'],
      ['wrong audience', () => sys.idp.wrongAudience({ sub: 'agent-e2e' }), 'audience'],
      ['bad signature', () => sys.idp.badSignature({ sub: 'agent-e2e' }), 'signature'],
      ['alg none', async () => sys.idp.algNone({ sub: 'agent-e2e', groups: ['agents'] }), 'algorithm'],
      [
        'HS256 signed with the public key',
        async () => sys.idp.hs256WithPublicKey({ sub: 'agent-e2e', groups: ['agents'] }, 'pem'),
        'algorithm',
      ],
      ['unknown kid', () => sys.idp.unknownKid({ sub: 'agent-e2e' }), 'unknown_key'],
    ];

    it.each(cases)('%s', async (_name, makeToken, code) => {
      const before = sys.upstream.received.length;
      const sessionId = randomUUID();
      const res = await sys.call('/c/demo/items', {
        token: await makeToken(),
        headers: { 'x-airlock-session-id': sessionId },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.body.error).toBe('unauthorized');
      expect(typeof res.body.message).toBe('string');
      expect(String(res.body.message).length).toBeGreaterThan(5);
      expect(sys.upstream.received.length).toBe(before);
      const events = await sys.audit.waitForRequest(String(res.body.requestId), ['auth.failed']);
      expect(events).toHaveLength(1);
      expect(events[0].session_id).toBe(sessionId);
      expect(events[0].actor_subject).toBeNull();
      expect(events[0].event.data).toMatchObject({ code, method: 'GET', path: '/items' });
    });
  });

  it('stores every event of this file exactly once: no event id twice, every request complete', async () => {
    const outcomes = ['operation.completed', 'operation.denied', 'operation.failed'];
    const query = () =>
      sys.db.query<{ request_id: string; types: string[] }>(
        "SELECT request_id, array_agg(type ORDER BY type) AS types FROM audit_event WHERE type LIKE 'operation.%' AND source = 'ingress-proxy' GROUP BY request_id",
      );
    // Completion events are published after the response; wait until every request has its outcome.
    const perRequest = await waitFor('every request to have its outcome stored', async () => {
      const rows = await query();
      return rows.every((r) => r.types.some((t) => outcomes.includes(t))) ? rows : undefined;
    });
    const doubled = await sys.db.query<{ id: string; n: string }>(
      'SELECT id, count(*) AS n FROM audit_event GROUP BY id HAVING count(*) > 1',
    );
    expect(doubled).toEqual([]);
    expect(perRequest.length).toBeGreaterThan(5);
    // And the recorder has moved on: its committed offsets reach the end of every partition.
    await waitFor('the recorder to commit up to the end of the audit stream', async () => {
      const lag = await consumerLag(`${sys.groupPrefix}-recorder`, Topics.Audit);
      return lag === 0;
    });
    // Nothing is delivered again and again: once the stream is quiet, the received count stands still.
    const stats = async () => (await (await fetch(`${sys.recorder.url}/audit/stats`)).json()) as Record<string, number>;
    const first = await stats();
    await new Promise((r) => setTimeout(r, 1500));
    const second = await stats();
    expect(second.received).toBe(first.received);
    expect(second.stored).toBeLessThanOrEqual(second.received);
    for (const r of perRequest) {
      const outcome = r.types.filter((t) => outcomes.includes(t));
      expect(outcome).toHaveLength(1);
      expect(new Set(r.types).size).toBe(r.types.length);
    }
  });
});

function rawGet(url: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const u = new URL(url);
  const path = url.slice(url.indexOf('/', u.protocol.length + 2));
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
