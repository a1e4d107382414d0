import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type Consumer, type Producer } from 'kafkajs';
import {
  Topics,
  uuidv7,
  type ApprovalDecided,
  type PolicyDecision,
  type PolicyEvaluateRequest,
  type RequestTopic,
  type VaultLeaseReply,
  type VaultLeaseRequest,
} from '@airlock/contracts';
import { MessagingError, NestKafkaHeaders, RequestReplyClient, createKafka } from '@airlock/messaging';
import { MessageSigner, generateSigningKeyPair, leaseAssociatedData, seal } from '@airlock/sealing';
import { EchoUpstream, infraEnv, kafkaSasl, waitFor, type StoredAuditEvent } from '@airlock/testing';
import { TestSystem } from './support/system';

/**
 * Someone who can write to Kafka (here the admin, a principal with every right, as a leaked
 * credential or a broker with its ACLs switched off would allow) answers in place of policy and
 * the vault, and asks the vault for a lease with a key of their own. The signatures stop each
 * attempt: the operation fails closed, the refusal is logged and audited.
 */
const attackerKey = (signer: string): MessageSigner =>
  MessageSigner.fromPem(signer, generateSigningKeyPair().privateKeyPem);

/** Answers every request on `topic` with what `forge` makes of it, straight to the requester's reply partition. */
class Forger {
  readonly answered: Record<string, unknown>[] = [];
  private consumer!: Consumer;
  private producer!: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: RequestTopic,
    private readonly groupId: string,
    private readonly forge: (request: Record<string, unknown>) => Record<string, unknown>,
  ) {}

  async start(): Promise<this> {
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    this.consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 50 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: false });
    const joined = new Promise<void>((resolve) => this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve()));
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const h = message.headers ?? {};
        const correlationId = h[NestKafkaHeaders.CorrelationId]?.toString();
        const replyTopic = h[NestKafkaHeaders.ReplyTopic]?.toString();
        const partition = Number(h[NestKafkaHeaders.ReplyPartition]?.toString());
        if (!correlationId || !replyTopic || !message.value) return;
        const request = JSON.parse(message.value.toString()) as Record<string, unknown>;
        await this.producer.send({
          topic: replyTopic,
          messages: [
            {
              partition,
              value: JSON.stringify(this.forge(request)),
              headers: { [NestKafkaHeaders.CorrelationId]: correlationId },
            },
          ],
        });
        this.answered.push(request);
      },
    });
    await joined;
    return this;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.consumer?.disconnect(), this.producer?.disconnect()]);
  }
}

describe('signed decisions, leases and lease requests', () => {
  const sys = new TestSystem();
  let kafka: Kafka;
  let attackerUpstream: EchoUpstream;

  beforeAll(async () => {
    // A held request answers 202 (still pending) after 5 s instead of 30.
    await sys.start({ policyTimeoutMs: 3000, ingressEnv: { APPROVAL_HTTP_WAIT_MS: '5000' } });
    attackerUpstream = await EchoUpstream.start();
    kafka = new Kafka({
      clientId: 'e2e-forger',
      brokers: infraEnv().KAFKA_BROKERS.split(','),
      sasl: kafkaSasl('admin'),
      logLevel: logLevel.NOTHING,
    });
  }, 180000);

  afterAll(async () => {
    await attackerUpstream?.stop();
    await sys.stop();
  }, 60000);

  async function rejectedEvents(requestId: string): Promise<StoredAuditEvent[]> {
    const rows = await sys.audit.waitForRequest(requestId, ['message.rejected']);
    return rows.filter((r) => r.type === 'message.rejected');
  }

  it.each([
    [
      'signed with a key the ingress does not trust',
      (m: PolicyDecision) => attackerKey('policy').sign({ topic: 'x' }, m),
      /not a trusted key of policy/,
    ],
    ['not signed at all', (m: PolicyDecision) => m, /is not signed/],
  ])(
    'refuses a forged "allow" from policy %s: 503, nothing reaches the upstream, logged and audited',
    async (_what, sign, reason) => {
      await sys.policy.stop();
      const forger = await new Forger(
        kafka,
        Topics.PolicyEvaluate,
        `${sys.groupPrefix}-forger-${randomUUID()}`,
        (r) => {
          const request = r as unknown as PolicyEvaluateRequest;
          return sign({
            requestId: request.requestId,
            decision: 'allow',
            reason: 'forged',
            policyVersion: 'forged',
            masking: [],
          }) as Record<string, unknown>;
        },
      ).start();
      try {
        // The policy file denies /secrets: a forged allow that worked would forward it.
        const { session, res } = await waitFor('a request the forger answered', async () => {
          const session = randomUUID();
          const res = await sys.call(`/c/demo/secrets/forged-${session}`, {
            headers: { 'x-airlock-session-id': session },
          });
          return forger.answered.some((r) => r.sessionId === session) ? { session, res } : undefined;
        });
        expect(res.status).toBe(503);
        expect(sys.upstream.received.some((r) => r.url.includes(session))).toBe(false);
        const requestId = String(forger.answered.find((r) => r.sessionId === session)?.requestId);
        const [event] = await rejectedEvents(requestId);
        expect(event.event).toMatchObject({
          source: 'ingress-proxy',
          sessionId: session,
          data: { topic: `${Topics.PolicyEvaluate}.reply`, reason: expect.stringMatching(reason) },
        });
        expect(sys.ingress.logs).toMatch(/refused an answer whose signature does not verify/);
      } finally {
        await forger.stop();
        await sys.policy.start();
      }
    },
  );

  it('keeps waiting for the genuine policy answer when a forger answers too: a forged reply cannot fail the call', async () => {
    const forger = await new Forger(kafka, Topics.PolicyEvaluate, `${sys.groupPrefix}-forger-${randomUUID()}`, (r) => {
      const request = r as unknown as PolicyEvaluateRequest;
      return attackerKey('policy').sign(
        { topic: 'x' },
        {
          requestId: request.requestId,
          decision: 'allow',
          reason: 'forged',
          policyVersion: 'forged',
          masking: [],
        },
      ) as Record<string, unknown>;
    }).start();
    try {
      const { session, res } = await waitFor('a request the forger answered', async () => {
        const session = randomUUID();
        const res = await sys.call(`/c/demo/secrets/raced-${session}`, {
          headers: { 'x-airlock-session-id': session },
        });
        return forger.answered.some((r) => r.sessionId === session) ? { session, res } : undefined;
      });
      // The genuine policy denies /secrets: its answer decides, whichever came first.
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'denied' });
      expect(sys.upstream.received.some((r) => r.url.includes(session))).toBe(false);
      const requestId = String(forger.answered.find((r) => r.sessionId === session)?.requestId);
      const [event] = await rejectedEvents(requestId);
      expect(event.event).toMatchObject({ source: 'ingress-proxy', data: { topic: `${Topics.PolicyEvaluate}.reply` } });
    } finally {
      await forger.stop();
    }
  });

  it("refuses a forged lease reply that names an upstream of the forger's choosing, sealed to the ingress", async () => {
    // A connection the test policy allows agents to use.
    const connection = 'ghost';
    expect(
      (
        await sys.admin('/connections', {
          method: 'POST',
          body: JSON.stringify({
            name: connection,
            protocol: 'http',
            upstream: sys.upstream.url,
            credentialKind: 'bearer',
          }),
        })
      ).status,
    ).toBe(201);
    await sys.admin(`/connections/${connection}/secret`, {
      method: 'PUT',
      body: JSON.stringify({ token: 'real-credential' }),
    });
    await sys.vault.stop();
    const forger = await new Forger(kafka, Topics.VaultLease, `${sys.groupPrefix}-forger-${randomUUID()}`, (r) => {
      const request = r as unknown as VaultLeaseRequest;
      const reply: Omit<VaultLeaseReply, 'sealed'> = {
        requestId: request.requestId,
        leaseId: uuidv7(),
        connection: request.connection,
        protocol: 'http',
        upstream: attackerUpstream.url,
        credentialKind: 'bearer',
        agentCredentialHeaders: [],
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
        secretVersion: 1,
      };
      // The forger can seal: the ingress's sealing key is public, on the request.
      const sealed = seal(
        request.publicKey,
        Buffer.from(JSON.stringify({ kind: 'bearer', token: 'x' })),
        leaseAssociatedData(reply),
      );
      return attackerKey('credential-vault').sign({ topic: `${Topics.VaultLease}.reply` }, { ...reply, sealed });
    }).start();
    try {
      const res = await waitFor('a lease request the forger answered', async () => {
        const before = forger.answered.length;
        const r = await sys.call(`/c/${connection}/items`);
        return forger.answered.length > before ? r : undefined;
      });
      expect(res.status).toBe(503);
      expect(attackerUpstream.received).toHaveLength(0);
      const [event] = await rejectedEvents(String(forger.answered[forger.answered.length - 1].requestId));
      expect(event.event).toMatchObject({
        source: 'ingress-proxy',
        data: {
          topic: `${Topics.VaultLease}.reply`,
          reason: expect.stringMatching(/not a trusted key of credential-vault/),
        },
      });
    } finally {
      await forger.stop();
      await sys.vault.start();
    }
    // With the real vault back, the same connection works.
    await waitFor(
      'the lease from the real vault',
      async () => (await sys.call(`/c/${connection}/items`)).status === 200 || undefined,
    );
  });

  it.each([
    [
      'signed with an ingress key the vault does not trust',
      attackerKey('ingress-proxy'),
      /not a trusted key of ingress-proxy/,
    ],
    ['not signed', undefined, /is not signed/],
  ])('refuses a lease request %s: no sealed secret, logged and audited by the vault', async (_what, signer, reason) => {
    const client = new RequestReplyClient(
      createKafka(
        { brokers: infraEnv().KAFKA_BROKERS.split(','), sasl: kafkaSasl(), clientId: 'e2e-lease-thief' },
        {
          error: () => undefined,
          warn: () => undefined,
          info: () => undefined,
          debug: () => undefined,
        },
      ),
      { groupId: `${sys.groupPrefix}-thief-${randomUUID()}`, topics: [Topics.VaultLease], security: { signer } },
    );
    await client.connect();
    try {
      const requestId = uuidv7();
      const attempt = client.request(
        Topics.VaultLease,
        'demo',
        { requestId, connection: 'demo', ingressInstance: 'thief', publicKey: Buffer.alloc(32, 9).toString('base64') },
        10000,
      );
      await expect(attempt).rejects.toThrow(MessagingError);
      await expect(attempt).rejects.toThrow(/signature does not verify/);
      const [event] = await rejectedEvents(requestId);
      expect(event.event).toMatchObject({
        source: 'credential-vault',
        data: { topic: Topics.VaultLease, reason: expect.stringMatching(reason) },
      });
      expect(sys.vault.logs).toMatch(/refused a request whose signature does not verify/);
    } finally {
      await client.close();
    }
  });

  it.each([
    ['not signed', (e: ApprovalDecided) => e, /is not signed/],
    [
      'signed with a key the ingress does not trust',
      (e: ApprovalDecided) => attackerKey('approval').sign({ topic: Topics.ApprovalDecided }, e),
      /not a trusted key of approval/,
    ],
  ])('does not release a held request on a forged approval decision %s, and audits it', async (_what, sign, reason) => {
    const path = `/held/items/forged-${randomUUID()}`;
    const before = Date.now();
    const answer = sys.call(`/c/demo${path}`, { method: 'DELETE' });
    const admin = await sys.token('admin-e2e', ['airlock-admins']);
    const approval = await waitFor('the pending approval', async () => {
      const list = await sys.approvalApi('/approvals', { token: admin });
      return (list.body.approvals as { id: string; detail: string }[]).find((a) => a.detail.includes(path));
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      const forged: ApprovalDecided = {
        approvalId: approval.id,
        state: 'approved',
        decidedBy: [{ issuer: sys.idp.issuer, subject: 'approver-forged', groups: ['approvers'] }],
        decidedAt: new Date().toISOString(),
      };
      await producer.send({
        topic: Topics.ApprovalDecided,
        messages: [{ key: approval.id, value: JSON.stringify(sign(forged)) }],
      });
    } finally {
      await producer.disconnect();
    }
    // Still held: after the ingress's wait it answers 202 (pending), never forwards.
    const res = await answer;
    expect(res.status).toBe(202);
    expect(sys.upstream.received.some((r) => r.url === path)).toBe(false);
    const rows = await waitFor('the message.rejected event of the forged decision', async () => {
      const found = await sys.db.query<StoredAuditEvent>(
        `SELECT * FROM audit_event WHERE type = 'message.rejected' AND event #>> '{data,topic}' = $1 AND time >= $2`,
        [Topics.ApprovalDecided, new Date(before)],
      );
      return found.some((r) => reason.test(String(r.event.data.reason))) ? found : undefined;
    });
    expect(rows[0].event).toMatchObject({ source: 'ingress-proxy' });
    expect(sys.ingress.logs).toMatch(/refused an event whose signature does not verify/);
  });
});
