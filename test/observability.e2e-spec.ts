import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PgUpstreamDatabase, SlackSink, localPgServerCertFile, waitFor, type StoredAuditEvent } from '@airlock/testing';
import { OtlpReceiver, labelValues, sampleValue, scrape } from './support/observability';
import { TestSystem } from './support/system';

type Json = Record<string, unknown>;

/**
 * Metrics, probes and traces of the whole system on the real Kafka, PostgreSQL and Redis: every
 * service's /metrics after traffic (an HTTP request, a SQL statement, an approval), /livez and
 * /readyz, and one trace per operation across the services it touched, sent over OTLP/HTTP to
 * a collector in the test.
 */
describe('observability', () => {
  const sys = new TestSystem();
  const otlp = { receiver: undefined as unknown as OtlpReceiver };
  let slack: SlackSink;
  const tag = randomBytes(5).toString('hex');
  let db: PgUpstreamDatabase;
  let agent: string;
  let approver: string;
  let admin: string;

  const services = () => ({
    'ingress-proxy': sys.ingress,
    policy: sys.policy,
    'credential-vault': sys.vault,
    approval: sys.approval,
    recorder: sys.recorder,
  });

  async function pgClient(database = 'pgdb'): Promise<Client> {
    const c = new Client({
      host: '127.0.0.1',
      port: sys.pgPort,
      database,
      user: 'agent',
      password: agent,
      ssl: { rejectUnauthorized: false },
    });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  async function vaultConnection(name: string): Promise<void> {
    const created = await sys.admin('/connections', {
      method: 'POST',
      body: JSON.stringify({ name, protocol: 'http', upstream: sys.upstream.url, credentialKind: 'bearer' }),
    });
    expect(created.status).toBe(201);
    const set = await sys.admin(`/connections/${name}/secret`, {
      method: 'PUT',
      body: JSON.stringify({ token: `token-${tag}-${name}` }),
    });
    expect(set.status).toBe(200);
  }

  /** The stored audit event of type `type` whose JSON mentions `needle`. */
  function storedEvent(type: string, needle: string): Promise<StoredAuditEvent> {
    return waitFor(
      `a stored ${type} event about ${needle}`,
      async () =>
        (
          await sys.db.query<StoredAuditEvent>(
            'SELECT * FROM audit_event WHERE type = $1 AND strpos(event::text, $2) > 0 ORDER BY seq',
            [type, needle],
          )
        )[0],
      { timeoutMs: 20000 },
    );
  }

  /** Waits until the trace holds a span of every service named. */
  function traceThrough(traceId: string, wanted: string[]) {
    return waitFor(
      `spans of ${wanted.join(', ')} in trace ${traceId}`,
      () => {
        const spans = otlp.receiver.trace(traceId);
        const seen = new Set(spans.map((s) => s.service));
        return wanted.every((w) => seen.has(w)) ? spans : undefined;
      },
      { timeoutMs: 20000, intervalMs: 250 },
    );
  }

  beforeAll(async () => {
    otlp.receiver = await OtlpReceiver.start();
    slack = await SlackSink.start();
    await sys.start({
      postgres: true,
      pgUpstreamCaFile: localPgServerCertFile(),
      serviceEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.receiver.url },
      // The first approval request of a fresh approval service on a busy machine may take longer
      // than the default 2 s; this test is about what is counted, not about that deadline.
      ingressEnv: { APPROVAL_TIMEOUT_MS: '5000' },
      approvalEnv: { SLACK_WEBHOOK_URL: slack.url, NOTIFY_BACKOFF_MS: '300', NOTIFY_ATTEMPTS: '5' },
    });
    db = await PgUpstreamDatabase.create('airlock_obs');
    await db.query(`
      CREATE TABLE customers (id int PRIMARY KEY, name text, password text);
      INSERT INTO customers VALUES (1, 'Ada', 'pw-${tag}');
      CREATE TABLE traced_${tag} (id int);
      INSERT INTO traced_${tag} VALUES (1), (2);
    `);
    await sys.addPgConnection('pgdb', db);
    // A connection of its own for the trace test: its first session leases (the lease is cached after).
    await sys.addPgConnection('pgtls', db);
    await vaultConnection('secure');
    await vaultConnection('rotating');
    agent = await sys.token('agent-e2e', ['agents']);
    approver = await sys.token('approver-1', ['approvers']);
    admin = await sys.token('admin-e2e', ['airlock-admins']);
  }, 240000);

  afterAll(async () => {
    await sys.stop();
    await db?.drop();
    await otlp.receiver?.stop();
    await slack?.stop();
  }, 60000);

  it('serves /livez and /readyz on every service, apart from each other', async () => {
    for (const [name, p] of Object.entries(services())) {
      const live = await fetch(`${p.url}/livez`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ service: name, status: 'ok' });
      const ready = await fetch(`${p.url}/readyz`);
      expect(ready.status).toBe(200);
      const report = (await ready.json()) as { service: string; status: string; checks: Json };
      expect(report).toMatchObject({ service: name, status: 'ok' });
      // Readiness is about the service's dependencies: Kafka everywhere, and what else it has.
      expect(Object.keys(report.checks).join(' ')).toContain('kafka');
    }
    const approvalChecks = Object.keys(
      ((await (await fetch(`${sys.approval.url}/readyz`)).json()) as { checks: Json }).checks,
    );
    expect(approvalChecks.join(' ')).toMatch(/redis/);
  });

  it('counts an HTTP request, a SQL statement and an approval in the named series of each service', async () => {
    const before = Object.fromEntries(
      await Promise.all(Object.entries(services()).map(async ([n, p]) => [n, await scrape(p.url)] as const)),
    );

    // An HTTP request on a vault connection whose response policy masks.
    sys.upstream.planted = { password: `pw-${tag}` };
    const http = await sys.call('/c/secure/items', { token: agent });
    expect(http.status).toBe(200);
    expect(http.text).not.toContain(`pw-${tag}`);
    sys.upstream.planted = {};

    // A SQL statement through the PostgreSQL gateway, with a masked column.
    const c = await pgClient();
    const rows = await c.query('SELECT id, name, password FROM customers');
    expect(rows.rows[0].password).not.toBe(`pw-${tag}`);
    const sessionsWhileOpen = await scrape(sys.ingress.url);
    expect(sampleValue(sessionsWhileOpen, 'airlock_ingress_pg_sessions_open', { connection: 'pgdb' })).toBe(1);
    await c.end();

    // An approval: a held request, its Slack notification refused once then delivered, approved
    // by an approver.
    slack.answer({ status: 500 });
    const path = `/held/items/${tag}`;
    const answer = sys.call(`/c/demo${path}`, { method: 'DELETE', token: agent });
    const pending = await waitFor('the pending approval', async () => {
      const r = await sys.approvalApi('/approvals?state=pending', { token: admin });
      const list = (Array.isArray(r.body) ? r.body : (r.body.approvals ?? r.body.items)) as Json[];
      return list.find((a) => String(a.detail).includes(path));
    });
    await waitFor('the Slack notification, delivered on its second attempt', () =>
      slack.attempts.some((a) => a.status === 200 && a.text.includes(path)),
    );
    const decided = await sys.approvalApi(`/approvals/${String(pending.id)}/approve`, {
      method: 'POST',
      token: approver,
      body: '{}',
    });
    expect(decided.status).toBe(200);
    const held = await answer;
    expect(held.status).toBe(200);

    // The recorder has stored the last event before its figures are read.
    await sys.audit.waitForRequest(held.headers.get('x-airlock-request-id')!, ['operation.completed']);

    const after = Object.fromEntries(
      await Promise.all(Object.entries(services()).map(async ([n, p]) => [n, await scrape(p.url)] as const)),
    );
    const moved = (service: keyof typeof after, name: string, labels: Record<string, string> = {}): number =>
      sampleValue(after[service], name, labels) - sampleValue(before[service], name, labels);

    // ingress-proxy
    expect(
      moved('ingress-proxy', 'airlock_ingress_operations_total', {
        protocol: 'http',
        connection: 'secure',
        decision: 'allow',
        outcome: 'completed',
      }),
    ).toBe(1);
    expect(
      moved('ingress-proxy', 'airlock_ingress_operations_total', {
        protocol: 'postgres',
        connection: 'pgdb',
        outcome: 'completed',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      moved('ingress-proxy', 'airlock_ingress_operations_total', {
        protocol: 'http',
        connection: 'demo',
        outcome: 'completed',
      }),
    ).toBe(1);
    expect(
      moved('ingress-proxy', 'airlock_ingress_operation_duration_seconds_count', {
        protocol: 'http',
        connection: 'secure',
      }),
    ).toBe(1);
    expect(
      moved('ingress-proxy', 'airlock_ingress_upstream_duration_seconds_count', {
        protocol: 'http',
        connection: 'secure',
      }),
    ).toBe(1);
    expect(
      moved('ingress-proxy', 'airlock_ingress_gateway_duration_seconds_count', {
        protocol: 'http',
        connection: 'secure',
      }),
    ).toBe(1);
    for (const series of [
      'airlock_ingress_upstream_duration_seconds_count',
      'airlock_ingress_gateway_duration_seconds_count',
    ]) {
      expect(moved('ingress-proxy', series, { protocol: 'postgres', connection: 'pgdb' })).toBeGreaterThanOrEqual(1);
    }
    expect(
      moved('ingress-proxy', 'airlock_ingress_masked_values_total', { rule: 'field:password' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      moved('ingress-proxy', 'airlock_ingress_decisions_total', { effect: 'allow', cache: 'miss' }),
    ).toBeGreaterThan(0);
    expect(moved('ingress-proxy', 'airlock_ingress_decisions_total', { effect: 'review' })).toBeGreaterThan(0);
    expect(
      moved('ingress-proxy', 'airlock_kafka_request_duration_seconds_count', {
        topic: 'airlock.policy.evaluate',
        outcome: 'ok',
      }),
    ).toBeGreaterThan(0);
    expect(
      moved('ingress-proxy', 'airlock_kafka_request_duration_seconds_count', {
        topic: 'airlock.vault.lease',
        outcome: 'ok',
      }),
    ).toBeGreaterThan(0);
    expect(
      moved('ingress-proxy', 'airlock_kafka_request_duration_seconds_count', {
        topic: 'airlock.approval.request',
        outcome: 'ok',
      }),
    ).toBeGreaterThan(0);
    expect(moved('ingress-proxy', 'airlock_audit_events_published_total')).toBeGreaterThan(0);
    expect(moved('ingress-proxy', 'airlock_audit_publish_duration_seconds_count')).toBeGreaterThan(0);
    expect(sampleValue(after['ingress-proxy'], 'airlock_ingress_pg_sessions_open', { connection: 'pgdb' })).toBe(0);
    expect(after['ingress-proxy']).toContain('# TYPE airlock_audit_backlog_events gauge');

    // policy
    expect(moved('policy', 'airlock_policy_decisions_total', { effect: 'allow', rule: 'agents-use-secure' })).toBe(1);
    expect(moved('policy', 'airlock_policy_decisions_total', { effect: 'review', rule: 'review-held' })).toBe(1);
    expect(moved('policy', 'airlock_policy_evaluation_duration_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(
      moved('policy', 'airlock_kafka_requests_handled_total', { topic: 'airlock.policy.evaluate', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(3);

    // credential-vault
    expect(moved('credential-vault', 'airlock_vault_leases_issued_total', { connection: 'secure' })).toBe(1);
    expect(moved('credential-vault', 'airlock_vault_leases_issued_total', { connection: 'pgdb' })).toBe(1);
    expect(moved('credential-vault', 'airlock_audit_events_published_total')).toBeGreaterThanOrEqual(2);

    // approval
    expect(moved('approval', 'airlock_approval_transitions_total', { state: 'pending' })).toBe(1);
    expect(moved('approval', 'airlock_approval_transitions_total', { state: 'approved' })).toBe(1);
    expect(moved('approval', 'airlock_approval_decision_seconds_count', { state: 'approved' })).toBe(1);
    expect(moved('approval', 'airlock_approval_notifications_total', { channel: 'slack', outcome: 'retry' })).toBe(1);
    expect(moved('approval', 'airlock_approval_notifications_total', { channel: 'slack', outcome: 'delivered' })).toBe(
      1,
    );
    expect(
      moved('approval', 'airlock_kafka_requests_handled_total', { topic: 'airlock.approval.request', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);

    // recorder (the series it had before the shared registry, same names)
    expect(moved('recorder', 'airlock_recorder_events_stored_total')).toBeGreaterThanOrEqual(8);
    expect(moved('recorder', 'airlock_recorder_batches_total')).toBeGreaterThan(0);
    expect(moved('recorder', 'airlock_recorder_batch_size_count')).toBeGreaterThan(0);
    expect(moved('recorder', 'airlock_recorder_event_latency_seconds_count')).toBeGreaterThanOrEqual(8);
    expect(after.recorder).toContain('# TYPE airlock_recorder_events_deadlettered_total counter');
    expect(after.recorder).toMatch(/^airlock_recorder_lag_messages\{[^}]*partition="\d+"[^}]*\} \d+$/m);

    for (const [name, text] of Object.entries(after)) {
      // Process metrics on every service, every series named by its service.
      expect(sampleValue(text, 'airlock_process_cpu_seconds_total', { service: name })).toBeGreaterThan(0);
      const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      expect(samples.every((l) => l.startsWith('airlock_'))).toBe(true);
      expect(samples.every((l) => l.includes(`service="${name}"`))).toBe(true);
      // No label carries a token, a statement or a path.
      const values = labelValues(text).join('\n');
      for (const secret of [agent, approver, admin, 'SELECT', path, `pw-${tag}`, `token-${tag}`]) {
        expect(values).not.toContain(secret);
      }
    }
    // The scanner finds what is there: the connection names are label values.
    expect(labelValues(after['ingress-proxy'])).toContain('secure');
  });

  it('traces one HTTP request through ingress, policy, vault and recorder', async () => {
    const res = await sys.call(`/c/rotating/items/trace-${tag}`, { token: agent });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-airlock-request-id')!;
    const [completed] = await sys.audit.waitForRequest(requestId, ['operation.completed']);
    const traceId = String(completed.event.traceId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(String(completed.event.spanId)).toMatch(/^[0-9a-f]{16}$/);

    const spans = await traceThrough(traceId, ['ingress-proxy', 'policy', 'credential-vault', 'recorder']);
    const root = spans.find((s) => s.service === 'ingress-proxy' && s.parentSpanId === undefined)!;
    expect(root.name).toBe('airlock.http operation');
    expect(root.spanId).toBe(completed.event.spanId);
    // The answering services' spans hang under the ingress's request spans.
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans.filter((x) => x.service !== 'ingress-proxy')) expect(ids.has(s.parentSpanId!)).toBe(true);
    expect(spans.some((s) => s.service === 'policy' && s.name === 'airlock.policy.evaluate handle')).toBe(true);
    expect(spans.some((s) => s.service === 'credential-vault' && s.name === 'airlock.vault.lease handle')).toBe(true);
    // The vault's own audit event (vault.lease_issued) names the same trace, with the vault's span.
    const [issued] = await sys.db.query<StoredAuditEvent>(
      `SELECT * FROM audit_event WHERE type = 'vault.lease_issued' AND event ->> 'traceId' = $1`,
      [traceId],
    );
    expect(issued.connection).toBe('rotating');
    const vaultSpan = spans.find((s) => s.spanId === issued.event.spanId);
    expect(vaultSpan?.service).toBe('credential-vault');
    expect(otlp.receiver.rejected).toEqual([]);
  });

  it('traces one SQL statement through ingress, policy and recorder, and its session start through the vault', async () => {
    const c = await pgClient('pgtls');
    try {
      const r = await c.query(`SELECT count(*) AS n FROM traced_${tag}`);
      expect(r.rows[0].n).toBe('2');
    } finally {
      await c.end();
    }
    const statement = await storedEvent('statement.completed', `traced_${tag}`);
    const traceId = String(statement.event.traceId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const spans = await traceThrough(traceId, ['ingress-proxy', 'policy', 'recorder']);
    expect(spans.find((s) => s.parentSpanId === undefined)?.name).toBe('airlock.postgres statement');

    // The session's start-up (its connect decision and lease) is a trace of its own, through the vault.
    const started = (await sys.audit.bySession(statement.session_id)).find((e) => e.type === 'session.started');
    const startTrace = String(started?.event.traceId);
    expect(startTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(startTrace).not.toBe(traceId);
    await traceThrough(startTrace, ['ingress-proxy', 'policy', 'credential-vault', 'recorder']);
  });
});
