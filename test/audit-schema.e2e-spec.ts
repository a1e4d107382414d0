import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import {
  AUDIT_INDEX_SCHEMA_FILE,
  AUDIT_SCHEMA_VERSION,
  AuditEventTypes,
  Topics,
  auditJsonSchemaFile,
  uuidv7,
  type AuditEventType,
} from '@airlock/contracts';
import { Client } from 'pg';
import { RequestReplyClient, createKafka } from '@airlock/messaging';
import { PgUpstreamDatabase, SlackSink, infraEnv, kafkaSasl, repoRoot, waitFor } from '@airlock/testing';
import { TestSystem } from './support/system';

/**
 * The published JSON Schema is what SIEM teams validate against: every event the services really
 * emit, as the recorder stored it, must match the committed schema of its type. Real Kafka,
 * PostgreSQL and Redis; the schemas are read from the committed files, not generated.
 */

// vault.key_rewrapped comes only from the offline rewrap command, which this test does not run;
// its schema is checked against built events in libs/contracts/src/json-schema.spec.ts.
const MUST_SEE: AuditEventType[] = Object.values(AuditEventTypes).filter(
  (t) => t !== AuditEventTypes.VaultKeyRewrapped,
);

interface WireEvent {
  id: string;
  type: string;
  sessionId: string;
  requestId: string;
  actor: { issuer: string; subject: string } | null;
  connection: string | null;
  data: Record<string, unknown>;
}

function committedSchemas(): { validators: Map<string, ValidateFunction>; index: ValidateFunction } {
  const dir = join(repoRoot(), 'libs', 'contracts', 'json-schema', 'audit', `v${AUDIT_SCHEMA_VERSION}`);
  const load = (file: string): object => JSON.parse(readFileSync(join(dir, file), 'utf8')) as object;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>(
    Object.values(AuditEventTypes).map((type) => [type, ajv.compile(load(auditJsonSchemaFile(type)))]),
  );
  return { validators, index: ajv.compile(load(AUDIT_INDEX_SCHEMA_FILE)) };
}

function errorsOf(validate: ValidateFunction, value: unknown): unknown {
  return validate(value) ? null : validate.errors;
}

describe('audit events as stored match the published JSON Schema', () => {
  const sys = new TestSystem();
  const session = randomUUID();
  /** An unsigned lease request: the vault refuses it and audits message.rejected under this id. */
  const forgedLeaseRequest = uuidv7();
  const planted = `canary-password-${randomUUID()}`;
  const { validators, index } = committedSchemas();

  /** The events this file's traffic caused (other runs may share the audit topic). */
  const ours = (e: WireEvent): boolean =>
    e.sessionId === session ||
    e.requestId === forgedLeaseRequest ||
    e.actor?.issuer === sys.idp.issuer ||
    (e.type === AuditEventTypes.VaultLeaseIssued && e.connection === 'secure');

  const agent = (path: string, token?: string | null) =>
    sys.call(path, { token, headers: { 'x-airlock-session-id': session } });

  let upstreamDb: PgUpstreamDatabase;
  let slack: SlackSink;

  beforeAll(async () => {
    slack = await SlackSink.start();
    await sys.start({ postgres: true, approvalEnv: { SLACK_WEBHOOK_URL: slack.url } });
    sys.upstream.planted = { password: planted };
    upstreamDb = await PgUpstreamDatabase.create('airlock_schema_up');
  }, 180000);

  afterAll(async () => {
    await sys.stop();
    await upstreamDb?.drop();
    await slack?.stop();
  }, 60000);

  async function pgSession(database: string): Promise<Client> {
    const c = new Client({
      host: '127.0.0.1',
      port: sys.pgPort,
      database,
      user: 'agent',
      password: await sys.token(),
      ssl: { rejectUnauthorized: false },
    });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  it('drives every kind of traffic the services audit today', async () => {
    const created = await sys.admin('/connections', {
      method: 'POST',
      body: JSON.stringify({ name: 'secure', protocol: 'http', upstream: sys.upstream.url, credentialKind: 'bearer' }),
    });
    expect(created.status).toBe(201);
    const set = await sys.admin('/connections/secure/secret', {
      method: 'PUT',
      body: JSON.stringify({ token: `credential-${randomUUID()}` }),
    });
    expect(set.status).toBe(200);
    // An authenticated caller outside the admin group: refused and audited by the vault.
    expect((await sys.admin('/connections', { token: await sys.token() })).status).toBe(403);

    expect((await agent('/c/demo/items', null)).status).toBe(401);
    expect((await agent('/c/demo/items')).status).toBe(200);
    const masked = await agent('/c/secure/items');
    expect(masked.status).toBe(200);
    expect(masked.text).not.toContain(planted);
    expect((await agent('/c/demo/secrets/db-password')).status).toBe(403);
    expect((await agent('/c/down/anything')).status).toBe(502);

    // Held for review: approvers are told on Slack, one approves, the request goes through.
    const held = sys.call('/c/demo/held/items/schema', {
      method: 'DELETE',
      headers: { 'x-airlock-session-id': session },
    });
    const admin = await sys.token('admin-e2e', ['airlock-admins']);
    const approval = await waitFor('the pending approval', async () => {
      const list = await sys.approvalApi('/approvals', { token: admin });
      return (list.body.approvals as { id: string; detail: string }[]).find((a) => a.detail.includes('/schema'));
    });
    await waitFor('the Slack message', () => slack.messages.length > 0);
    const approved = await sys.approvalApi(`/approvals/${approval.id}/approve`, {
      method: 'POST',
      token: await sys.token('approver-e2e', ['approvers']),
    });
    expect(approved.status).toBe(200);
    expect((await held).status).toBe(200);

    // PostgreSQL: a session with an allowed, a refused and a failing statement; a connection policy admits but
    // the vault does not know (pgtls is never created here); one no rule lets the agent use.
    await sys.addPgConnection('pgdb', upstreamDb);
    const c = await pgSession('pgdb');
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await expect(c.query('DROP TABLE nothing')).rejects.toMatchObject({ code: '42501' });
    await expect(c.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    await c.end();
    await expect(pgSession('pgtls')).rejects.toMatchObject({ code: '3D000' });
    await expect(pgSession('pgnowhere')).rejects.toMatchObject({ code: '28000' });

    // A lease request nobody signed: refused by the vault, which audits it.
    const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
    const unsigned = new RequestReplyClient(
      createKafka({ brokers: infraEnv().KAFKA_BROKERS.split(','), sasl: kafkaSasl(), clientId: 'e2e-unsigned' }, quiet),
      { groupId: `${sys.groupPrefix}-unsigned`, topics: [Topics.VaultLease] },
    );
    await unsigned.connect();
    try {
      await expect(
        unsigned.request(
          Topics.VaultLease,
          'secure',
          {
            requestId: forgedLeaseRequest,
            connection: 'secure',
            ingressInstance: 'nobody',
            publicKey: Buffer.alloc(32, 7).toString('base64'),
          },
          10000,
        ),
      ).rejects.toThrow(/signature does not verify/);
    } finally {
      await unsigned.close();
    }
  });

  it('stores, for this traffic, an event of every type the services emit', async () => {
    const seen = await waitFor('an event of every type from this traffic', async () => {
      const types = new Set((await storedEvents()).filter(ours).map((e) => e.type));
      return MUST_SEE.every((t) => types.has(t)) ? types : undefined;
    });
    expect([...seen].sort()).toEqual([...MUST_SEE].sort());
    // The masked response is audited with its counts, so the optional `masked` field is checked too.
    const completed = (await storedEvents()).filter((e) => ours(e) && e.type === AuditEventTypes.OperationCompleted);
    const counts = (e: WireEvent) => Object.values((e.data.masked as Record<string, number> | undefined) ?? {});
    expect(completed.some((e) => e.connection === 'secure' && counts(e).some((n) => n > 0))).toBe(true);
  });

  it('validates every stored event against the committed schema of its type, and the index schema', async () => {
    const events = await storedEvents();
    expect(events.filter(ours).length).toBeGreaterThanOrEqual(MUST_SEE.length);
    const invalid: { id: string; type: string; errors: unknown }[] = [];
    for (const event of events) {
      const validate = validators.get(event.type);
      if (!validate) {
        invalid.push({ id: event.id, type: event.type, errors: 'no committed schema for this type' });
        continue;
      }
      for (const check of [validate, index]) {
        const errors = errorsOf(check, event);
        if (errors) invalid.push({ id: event.id, type: event.type, errors });
      }
    }
    expect(invalid).toEqual([]);
  });

  async function storedEvents(): Promise<WireEvent[]> {
    return (await sys.db.query<{ event: WireEvent }>('SELECT event FROM audit_event')).map((r) => r.event);
  }
});
