import fc from 'fast-check';
import type { Kafka } from 'kafkajs';
import { Topics, replyTopicOf, uuidv7, type PolicyDecision } from '@airlock/contracts';
import { MessageSigner, TrustedKeys, generateSigningKeyPair } from '@airlock/sealing';
import { NestKafkaHeaders } from './headers';
import type { RejectedMessage } from './message-trust';
import { RequestReplyClient } from './request-reply.client';

/**
 * Answers to a caller that verifies them, in any order: genuine replies and error replies,
 * forgeries (a reply signed with another key, an unsigned error reply, an unreadable message)
 * before or after the call is over, answers to somebody else's calls, deadlines and long waits.
 * A call ends only on its first genuine answer or its deadline; every forged answer to one of
 * the caller's own calls is reported once, with that call's ids, while the call is remembered.
 */
const topic = Topics.PolicyEvaluate;
const replyTopic = replyTopicOf(topic);
const DEADLINE_MS = 1000;
const REMEMBERED_MS = 60_000;

const policyKeys = generateSigningKeyPair();
const genuine = MessageSigner.fromPem('policy', policyKeys.privateKeyPem);
const forger = MessageSigner.fromPem('policy', generateSigningKeyPair().privateKeyPem);
const trust = TrustedKeys.fromJson(
  JSON.stringify({ keys: [{ signer: 'policy', publicKey: policyKeys.publicKeyPem }] }),
);

type Delivery = (m: {
  topic: string;
  message: { headers: Record<string, Buffer>; value: Buffer | null };
}) => Promise<void>;

/** A broker stand-in: what is produced on a reply topic is delivered at once; requests are kept. */
function standIn(sent: { correlationId: string; requestId: string }[]): { kafka: Kafka; deliver: () => Delivery } {
  let deliver: Delivery = async () => undefined;
  const buffers = (h: Record<string, string>) =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(v)]));
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    sendBatch: async ({
      topicMessages,
    }: {
      topicMessages: { topic: string; messages: { headers: Record<string, string> }[] }[];
    }) => {
      for (const { topic: t, messages } of topicMessages)
        for (const m of messages) await deliver({ topic: t, message: { headers: buffers(m.headers), value: null } });
    },
    send: async ({ messages }: { messages: { value: string; headers: Record<string, string> }[] }) => {
      const body = JSON.parse(messages[0].value) as { requestId: string };
      sent.push({ correlationId: messages[0].headers[NestKafkaHeaders.CorrelationId], requestId: body.requestId });
      return [];
    },
  };
  const consumer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    subscribe: async () => undefined,
    run: async ({ eachMessage }: { eachMessage: Delivery }) => {
      deliver = eachMessage;
    },
  };
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
      topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0 }] })),
    }),
  };
  const kafka = { producer: () => producer, consumer: () => consumer, admin: () => admin } as unknown as Kafka;
  return { kafka, deliver: () => deliver };
}

type Kind = 'genuine' | 'genuine-error' | 'forged' | 'forged-error' | 'unreadable' | 'stranger';
type Step = { kind: Kind; call: number } | { kind: 'deadline' } | { kind: 'long-wait' };

const forgeries: readonly Kind[] = ['forged', 'forged-error', 'unreadable'];

function answerOf(kind: Kind, correlationId: string, requestId: string): { value: Buffer | null; error?: Buffer } {
  const context = { topic: replyTopic, correlationId };
  const decision: PolicyDecision = { requestId, decision: 'deny', reason: 'rule', policyVersion: 'v1', masking: [] };
  switch (kind) {
    case 'genuine':
    case 'stranger':
      return { value: Buffer.from(JSON.stringify(genuine.sign(context, decision))) };
    case 'genuine-error':
      return {
        value: null,
        error: Buffer.from(JSON.stringify(genuine.sign(context, { status: 'error', message: 'no' }))),
      };
    case 'forged':
      return { value: Buffer.from(JSON.stringify(forger.sign(context, { ...decision, decision: 'allow' }))) };
    case 'forged-error':
      return { value: null, error: Buffer.from(JSON.stringify({ status: 'error', message: 'forged' })) };
    case 'unreadable':
      return { value: Buffer.from('not json') };
  }
}

const steps = (calls: number): fc.Arbitrary<Step[]> =>
  fc.array(
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({
          kind: fc.constantFrom<Kind>('genuine', 'genuine-error', 'forged', 'forged-error', 'unreadable', 'stranger'),
          call: fc.nat(calls - 1),
        }),
      },
      { weight: 1, arbitrary: fc.constant<Step>({ kind: 'deadline' }) },
      { weight: 1, arbitrary: fc.constant<Step>({ kind: 'long-wait' }) },
    ),
    { maxLength: 24 },
  );

describe('RequestReplyClient answers, in any order', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ends a call on its first genuine answer or its deadline, and reports every forged answer to it while it is remembered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(fc.constant(n), steps(n))),
        async ([calls, script]) => {
          const sent: { correlationId: string; requestId: string }[] = [];
          const { kafka, deliver } = standIn(sent);
          const reported: RejectedMessage[] = [];
          const client = new RequestReplyClient(kafka, {
            groupId: 'g',
            topics: [topic],
            security: { trust, onRejected: (r) => reported.push(r) },
          });
          await client.connect();
          const outcomes: Promise<string>[] = [];
          const sessionId = uuidv7();
          for (let i = 0; i < calls; i += 1) {
            const request = {
              requestId: uuidv7(),
              sessionId,
              principal: { issuer: 'https://idp.example', subject: 'agent-1', groups: ['agents'] },
              connection: 'demo',
              protocol: 'http' as const,
              operation: { kind: 'http' as const, method: 'GET', path: '/x' },
            };
            outcomes.push(
              client.request(topic, 'demo', request, DEADLINE_MS).then(
                (reply) => `ok:${reply.decision}`,
                (err: Error) =>
                  err.message.includes('answered with an error')
                    ? 'remote'
                    : err.message.includes('no answer')
                      ? 'timeout'
                      : `other:${err.message}`,
              ),
            );
          }
          await Promise.resolve();
          expect(sent).toHaveLength(calls);

          // The model: a call's state, when it ended, and the forged answers it should report.
          const model = sent.map(() => ({ state: 'pending', endedAt: 0 }));
          const expected: string[] = [];
          let now = 0;
          for (const step of script) {
            if (step.kind === 'deadline' || step.kind === 'long-wait') {
              const ms = step.kind === 'deadline' ? DEADLINE_MS : REMEMBERED_MS + 1;
              jest.advanceTimersByTime(ms);
              // Every call was made at 0: the first wait times out those still pending, at their deadline.
              for (const m of model) {
                if (m.state === 'pending') Object.assign(m, { state: 'timeout', endedAt: DEADLINE_MS });
              }
              now += ms;
              continue;
            }
            const { correlationId, requestId } = sent[step.call];
            const id = step.kind === 'stranger' ? `stranger-${correlationId}` : correlationId;
            const { value, error } = answerOf(step.kind, id, requestId);
            const headers: Record<string, Buffer> = { [NestKafkaHeaders.CorrelationId]: Buffer.from(id) };
            if (error) headers[NestKafkaHeaders.Error] = error;
            await deliver()({ topic: replyTopic, message: { headers, value } });
            const m = model[step.call];
            if (forgeries.includes(step.kind) && (m.state === 'pending' || now - m.endedAt < REMEMBERED_MS)) {
              expected.push(requestId);
            }
            if (m.state === 'pending' && step.kind === 'genuine') Object.assign(m, { state: 'ok:deny', endedAt: now });
            if (m.state === 'pending' && step.kind === 'genuine-error')
              Object.assign(m, { state: 'remote', endedAt: now });
          }
          jest.advanceTimersByTime(DEADLINE_MS);
          for (const m of model) if (m.state === 'pending') m.state = 'timeout';
          expect(await Promise.all(outcomes)).toEqual(model.map((m) => m.state));
          expect(reported.map((r) => r.requestId)).toEqual(expected);
          for (const r of reported) expect(r).toMatchObject({ topic: replyTopic, sessionId });
          await client.close();
        },
      ),
      { numRuns: 200 },
    );
  });
});
