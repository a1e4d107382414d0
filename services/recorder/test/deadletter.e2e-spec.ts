import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { AuditDeadLetterSchema, Topics, uuidv7, type AuditDeadLetter } from '@airlock/contracts';
import {
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  freePort,
  infraEnv,
  kafkaSasl,
  runId,
  syntheticAuditEvent,
  waitFor,
} from '@airlock/testing';
import type { VerifyReport } from '../src/integrity/verify';

/**
 * The recorder never drops an event silently: a message that fails the audit contract, and one
 * the store refuses, go to airlock.audit.deadletter with their reason and bytes, are counted,
 * and GET /audit/verify reports them; the valid events around them are stored and chained.
 */
describe('the recorder dead-letters what it cannot store', () => {
  const tag = randomBytes(6).toString('hex');
  let idp: TestIdentityProvider;
  let db: TestDatabase;
  let recorder: ServiceProcess;
  let producer: Producer;
  let consumer: Consumer;
  const letters: AuditDeadLetter[] = [];

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    db = await TestDatabase.create('airlock_deadletter');
    const workDir = mkdtempSync(join(tmpdir(), 'airlock-deadletter-'));
    const prefix = `test-${runId()}`;
    recorder = new ServiceProcess('recorder', await freePort(), {
      ...db.standaloneRecorderEnv(workDir, prefix, idp),
      AUDIT_CHECKPOINT_INTERVAL_MS: '1000',
    });
    await recorder.start();
    const kafka = new Kafka({
      clientId: `deadletter-e2e-${tag}`,
      brokers: infraEnv().KAFKA_BROKERS.split(','),
      sasl: kafkaSasl(),
      logLevel: logLevel.NOTHING,
    });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    consumer = kafka.consumer({ groupId: `${prefix}-deadletter-reader`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: Topics.AuditDeadLetter, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const parsed = AuditDeadLetterSchema.safeParse(JSON.parse(message.value?.toString('utf8') ?? 'null'));
        if (parsed.success && Buffer.from(parsed.data.value, 'base64').toString('utf8').includes(tag)) {
          letters.push(parsed.data);
        }
      },
    });
  }, 120000);

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await recorder?.stop();
    await idp?.stop();
    await db?.drop();
  });

  it('stores the valid events, and puts the malformed and the refused ones on the dead-letter topic with their reason', async () => {
    const sessionId = uuidv7();
    const valid = (): ReturnType<typeof syntheticAuditEvent> =>
      syntheticAuditEvent(sessionId, { subject: `ok-${tag}` });
    const before = valid();
    // Fails the contract: a status that is not a number.
    const malformed = { ...valid(), actor: { issuer: 'i', subject: `bad-${tag}`, groups: [] }, data: { status: 'x' } };
    // A lone surrogate, escaped in the JSON text: no canonical form, no UTF-8 form.
    const split = `${JSON.stringify({ ...valid(), actor: { issuer: 'i', subject: `split-${tag}`, groups: [] } }).slice(0, -1)},"extra":"\\ud83d"}`;
    // A number too large for a double: JSON.parse reads Infinity, which has no canonical form.
    const overflow = `${JSON.stringify({ ...valid(), actor: { issuer: 'i', subject: `overflow-${tag}`, groups: [] } }).slice(0, -1)},"extra":1e400}`;
    // Passes the contract, but PostgreSQL refuses year 0 (SQLSTATE 22008).
    const refused = {
      ...valid(),
      time: '0000-01-01T00:00:00Z',
      actor: { issuer: 'i', subject: `year0-${tag}`, groups: [] },
    };
    const after = valid();
    await producer.send({
      topic: Topics.Audit,
      acks: -1,
      // One key: one partition, in this order.
      messages: [before, malformed, split, overflow, refused, after].map((e) => ({
        key: sessionId,
        value: typeof e === 'string' ? e : JSON.stringify(e),
      })),
    });

    const stored = await waitFor('the valid events of the session in the store', async () => {
      const rows = await db.query<{ id: string }>('SELECT id FROM audit_event WHERE session_id = $1 ORDER BY seq', [
        sessionId,
      ]);
      return rows.length >= 2 ? rows : undefined;
    });
    expect(stored.map((r) => r.id)).toEqual([before.id, after.id]);

    const dead = await waitFor('four dead letters of the session', () => (letters.length >= 4 ? letters : undefined));
    const bySubject = (s: string): AuditDeadLetter | undefined =>
      dead.find((d) => Buffer.from(d.value, 'base64').toString('utf8').includes(`${s}-${tag}`));
    expect(bySubject('bad')).toMatchObject({ stage: 'contract', topic: Topics.Audit, eventId: malformed.id });
    expect(bySubject('bad')?.reason).toMatch(/data\.status/);
    expect(bySubject('split')).toMatchObject({ stage: 'contract' });
    expect(bySubject('split')?.reason).toMatch(/lone surrogate/);
    expect(bySubject('overflow')).toMatchObject({ stage: 'contract' });
    expect(bySubject('overflow')?.reason).toMatch(/Infinity has no JSON form/);
    expect(bySubject('year0')).toMatchObject({ stage: 'store', eventId: refused.id });
    expect(bySubject('year0')?.reason).toMatch(/out of range/);
    // The bytes as they arrived.
    expect(JSON.parse(Buffer.from(bySubject('bad')!.value, 'base64').toString('utf8'))).toEqual(malformed);
    expect(Buffer.from(bySubject('split')!.value, 'base64').toString('utf8')).toBe(split);

    const auditor = await idp.sign({ sub: 'auditor-e2e', groups: ['airlock-auditors'] });
    const res = await fetch(`${recorder.url}/audit/verify`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(res.status).toBe(200);
    const report = (await res.json()) as VerifyReport;
    expect(report.ok).toBe(true);
    expect(report.deadLetters.count).toBe(4);
    const reported = new Map(report.deadLetters.latest.map((d) => [d.eventId, d]));
    expect(reported.get(malformed.id)).toMatchObject({ stage: 'contract' });
    expect(reported.get(refused.id)).toMatchObject({ stage: 'store' });
    expect(reported.get(refused.id)?.reason).toMatch(/out of range/);
    expect(Date.parse(reported.get(refused.id)!.recordedAt)).toBeGreaterThan(Date.now() - 120_000);

    const stats = (await (await fetch(`${recorder.url}/audit/stats`)).json()) as Record<string, number>;
    expect(stats.deadLettered).toBeGreaterThanOrEqual(4);
  }, 60000);
});
