import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Kafka, Partitioners, logLevel, type Consumer, type Producer } from 'kafkajs';
import { Topics, replyTopicOf, uuidv7, type RequestTopic } from '@airlock/contracts';
import { infraEnv, kafkaSasl, waitFor } from '@airlock/testing';
import { TestSystem } from './support/system';

const POLICY_TIMEOUT_MS = 1500;

describe('fail closed, recover, and reject bad messages', () => {
  const sys = new TestSystem();
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    await sys.start({ policyTimeoutMs: POLICY_TIMEOUT_MS });
    kafka = new Kafka({
      clientId: 'e2e-resilience',
      brokers: infraEnv().KAFKA_BROKERS.split(','),
      sasl: kafkaSasl(),
      logLevel: logLevel.NOTHING,
    });
    producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  }, 180000);

  afterAll(async () => {
    await producer?.disconnect();
    await sys.stop();
  }, 60000);

  it('refuses requests within the deadline while policy is stopped, and serves them again once it is back, without restarting the proxy', async () => {
    expect((await sys.call(`/c/demo/before-${randomUUID()}`)).status).toBe(200);
    await sys.policy.stop();
    const before = sys.upstream.received.length;
    // Unique paths: a decision cached before the stop would legitimately still apply.
    const refused = await sys.call(`/c/demo/during-${randomUUID()}`);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'policy_unavailable' });
    expect(String(refused.body.message)).toMatch(/refused/);
    expect(refused.ms).toBeLessThan(POLICY_TIMEOUT_MS + 1000);
    expect(sys.upstream.received.length).toBe(before);
    const events = await sys.audit.waitForRequest(String(refused.body.requestId), [
      'operation.intercepted',
      'operation.failed',
    ]);
    expect(events.find((e) => e.type === 'operation.failed')!.event.data).toMatchObject({
      stage: 'policy',
      status: 503,
    });

    await sys.policy.start();
    const back = await waitFor(
      'a request through the restarted policy service',
      async () => {
        const r = await sys.call(`/c/demo/after-${randomUUID()}`);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 30000, intervalMs: 250 },
    );
    expect(back.body.ok).toBe(true);
    expect(sys.ingress.running).toBe(true);
  }, 90000);

  it('drops cached decisions when the policy changes', async () => {
    const path = `/c/demo/cached-${randomUUID()}`;
    expect((await sys.call(path)).status).toBe(200);
    const second = await sys.call(path);
    expect(second.status).toBe(200);
    // A read is recorded in one event, which carries its decision.
    const read = await sys.audit.waitForRequest(second.headers.get('x-airlock-request-id')!, ['operation.completed']);
    expect(read.find((e) => e.type === 'operation.completed')!.event.data).toMatchObject({
      decision: { decision: 'allow', cached: true },
    });

    const original = readFileSync(sys.policyFile, 'utf8');
    writeFileSync(
      sys.policyFile,
      `${original.trimEnd()}\n  - id: no-cached\n    effect: deny\n    connections: ['*']\n    http:\n      paths: ['/cached-*']\n`,
    );
    const reload = await fetch(`${sys.policy.url}/policy/reload`, { method: 'POST' });
    expect(await reload.json()).toMatchObject({ changed: true });
    const denied = await waitFor('the cached allow to be dropped', async () => {
      const r = await sys.call(path);
      return r.status === 403 ? r : undefined;
    });
    expect(denied.body.message).toBe('rule no-cached');
    writeFileSync(sys.policyFile, original);
    await fetch(`${sys.policy.url}/policy/reload`, { method: 'POST' });
  });

  describe('a message that fails its schema is rejected with a logged error, and the consumer goes on', () => {
    const replies = new Map<string, (r: { error?: string; value?: string }) => void>();
    let replyConsumer: Consumer;

    beforeAll(async () => {
      replyConsumer = kafka.consumer({ groupId: `${sys.groupPrefix}-raw-replies` });
      await replyConsumer.connect();
      // From the beginning: nothing can be missed while the group joins; old replies match no correlation id.
      await replyConsumer.subscribe({
        topics: [Topics.PolicyEvaluate, Topics.VaultLease, Topics.ApprovalRequest].map(replyTopicOf),
        fromBeginning: true,
      });
      await replyConsumer.run({
        eachMessage: async ({ message }) => {
          const id = message.headers?.kafka_correlationId?.toString();
          const settle = id ? replies.get(id) : undefined;
          settle?.({ error: message.headers?.['kafka_nest-err']?.toString(), value: message.value?.toString() });
        },
      });
    });

    afterAll(async () => {
      await replyConsumer?.disconnect();
    });

    /** Sends a raw request with the headers the request/reply client uses and waits for its reply. */
    async function rawRequest(topic: RequestTopic, value: string): Promise<{ error?: string; value?: string }> {
      const correlationId = randomUUID();
      const reply = new Promise<{ error?: string; value?: string }>((r) => replies.set(correlationId, r));
      await producer.send({
        topic,
        messages: [
          {
            key: 'x',
            value,
            headers: {
              kafka_correlationId: correlationId,
              kafka_replyTopic: replyTopicOf(topic),
              kafka_replyPartition: '0',
            },
          },
        ],
      });
      try {
        return await Promise.race([
          reply,
          new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no reply on ${replyTopicOf(topic)}`)), 20000)),
        ]);
      } finally {
        replies.delete(correlationId);
      }
    }

    it.each([Topics.PolicyEvaluate, Topics.VaultLease, Topics.ApprovalRequest])(
      'request topic %s answers an error that names the fault',
      async (topic) => {
        const notJson = await rawRequest(topic, '{this is not json');
        expect(notJson.error).toMatch(/not valid JSON/);
        const wrongShape = await rawRequest(topic, JSON.stringify({ requestId: 'nope', connection: 'Bad Name!' }));
        expect(wrongShape.error).toMatch(/requestId|connection/);
        const service =
          topic === Topics.PolicyEvaluate ? sys.policy : topic === Topics.VaultLease ? sys.vault : sys.approval;
        await waitFor(`${service.name} to log the rejection`, () =>
          service.logs.includes('does not match its contract'),
        );
      },
      60000,
    );

    it('policy goes on answering valid requests after bad ones', async () => {
      await rawRequest(Topics.PolicyEvaluate, 'garbage');
      expect((await sys.call(`/c/demo/after-garbage-${randomUUID()}`)).status).toBe(200);
    }, 30000);

    it('the recorder skips a bad or forged audit event and stores the next good one', async () => {
      const good = {
        id: uuidv7(),
        schemaVersion: 1,
        time: new Date().toISOString(),
        sessionId: uuidv7(),
        requestId: uuidv7(),
        actor: { issuer: 'https://idp.test', subject: 'producer-test', groups: [] },
        connection: 'demo',
        protocol: 'http',
        source: 'ingress-proxy',
        type: 'operation.intercepted',
        data: { operation: { kind: 'http', method: 'GET', path: '/after-bad' } },
      };
      const sessionKey = good.sessionId;
      await producer.send({
        topic: Topics.Audit,
        messages: [
          { key: sessionKey, value: '{"type":"operation.exploded"}' },
          { key: sessionKey, value: 'not json at all' },
          { key: sessionKey, value: JSON.stringify({ ...good, id: 'not-a-uuid' }) },
          // Well-formed, but the policy service does not own ingress events: forged.
          { key: sessionKey, value: JSON.stringify({ ...good, id: uuidv7(), source: 'policy' }) },
          { key: sessionKey, value: JSON.stringify(good) },
        ],
      });
      const stored = await sys.audit.waitForRequest(good.requestId, ['operation.intercepted']);
      expect(stored).toHaveLength(1);
      expect(stored[0].id).toBe(good.id);
      await waitFor(
        'the recorder to log the rejections',
        () => (sys.recorder.logs.match(/does not match its contract/g) ?? []).length >= 4,
      );
      expect(sys.recorder.logs).toMatch(/policy may not write operation.intercepted/);
    }, 30000);

    it('the ingress skips a bad policy.changed event and still acts on the next good one', async () => {
      await producer.send({ topic: Topics.PolicyChanged, messages: [{ key: 'e2e', value: '{"policyId": 5}' }] });
      await producer.send({
        topic: Topics.PolicyChanged,
        messages: [
          {
            key: 'e2e',
            value: JSON.stringify({
              policyId: 'e2e',
              version: `v-${randomUUID()}`,
              changedAt: new Date().toISOString(),
            }),
          },
        ],
      });
      await waitFor('the ingress to log the rejection', () => sys.ingress.logs.includes('does not match its contract'));
      await waitFor('the ingress to act on the good event', () =>
        sys.ingress.logs.includes('cached decisions dropped'),
      );
    }, 30000);

    it('the recorder skips a bad approval.decided event', async () => {
      await producer.send({ topic: Topics.ApprovalDecided, messages: [{ key: 'e2e', value: '{"approvalId":"x"}' }] });
      await waitFor('the recorder to log the rejection', () =>
        /approval\.decided[^\n]*does not match its contract/.test(sys.recorder.logs),
      );
    }, 30000);
  });
});
