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

/** What a forger writes back: a body, and Nest's error header when it poses as an error reply. */
interface ForgedAnswer {
  value: string | null;
  error?: string;
}

const json = (body: unknown): ForgedAnswer => ({ value: JSON.stringify(body) });

/** Answers every request on `topic` with what `forge` makes of it, straight to the requester's reply partition. */
class Forger {
  /** Requests as they were read, and once answered. */
  readonly seen: Record<string, unknown>[] = [];
  readonly answered: Record<string, unknown>[] = [];
  private consumer!: Consumer;
  private producer!: Producer;
  private held: Promise<void> | undefined;
  private release: () => void = () => undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: RequestTopic,
    private readonly groupId: string,
    private readonly forge: (request: Record<string, unknown>) => ForgedAnswer,
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
        this.seen.push(request);
        await this.held;
        const { value, error } = this.forge(request);
        await this.producer.send({
          topic: replyTopic,
          messages: [
            {
              partition,
              value,
              headers: {
                [NestKafkaHeaders.CorrelationId]: correlationId,
                ...(error !== undefined ? { [NestKafkaHeaders.Error]: error } : {}),
              },
            },
          ],
        });
        this.answered.push(request);
      },
    });
    await joined;
    return this;
  }

  /** Answers nothing from now on until `releaseAnswers()`. */
  holdAnswers(): void {
    this.held = new Promise<void>((resolve) => (this.release = resolve));
  }

  releaseAnswers(): void {
    this.release();
    this.held = undefined;
  }

  async stop(): Promise<void> {
    this.releaseAnswers();
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
          return json(
            sign({
              requestId: request.requestId,
              decision: 'allow',
              reason: 'forged',
              policyVersion: 'forged',
              masking: [],
            }),
          );
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

  /** An allow for the request, signed with a key the ingress does not trust. */
  const forgedAllow = (r: Record<string, unknown>): ForgedAnswer => {
    const request = r as unknown as PolicyEvaluateRequest;
    return json(
      attackerKey('policy').sign(
        { topic: 'x' },
        { requestId: request.requestId, decision: 'allow', reason: 'forged', policyVersion: 'forged', masking: [] },
      ),
    );
  };

  /** A forger on the policy topic, once it is seen to read the requests. */
  async function policyForger(forge: (request: Record<string, unknown>) => ForgedAnswer): Promise<Forger> {
    const forger = await new Forger(
      kafka,
      Topics.PolicyEvaluate,
      `${sys.groupPrefix}-forger-${randomUUID()}`,
      forge,
    ).start();
    await waitFor('the forger reading policy requests', async () => {
      const session = randomUUID();
      await sys.call(`/c/demo/secrets/warm-${session}`, { headers: { 'x-airlock-session-id': session } });
      return forger.seen.some((r) => r.sessionId === session) || undefined;
    });
    return forger;
  }

  const refusalLogged = (requestId: string): boolean =>
    sys.ingress.logs.split('\n').some((line) => line.includes('refused an answer') && line.includes(requestId));

  /**
   * With policy frozen, a request to /secrets (which the genuine policy denies) that only the
   * forger answers; policy goes on once the ingress has refused the forged answer. Returns the
   * ingress's answer and the request id.
   */
  async function forgedFirst(
    forger: Forger,
  ): Promise<{ res: Awaited<ReturnType<TestSystem['call']>>; requestId: string; session: string }> {
    const session = randomUUID();
    sys.policy.pause();
    let call: ReturnType<TestSystem['call']>;
    let requestId: string;
    try {
      call = sys.call(`/c/demo/secrets/raced-${session}`, { headers: { 'x-airlock-session-id': session } });
      // Within the ingress's 3 s policy deadline.
      requestId = await waitFor(
        'the ingress refusing the forged answer',
        async () => {
          const request = forger.answered.find((r) => r.sessionId === session);
          return request && refusalLogged(String(request.requestId)) ? String(request.requestId) : undefined;
        },
        { timeoutMs: 2500, intervalMs: 20 },
      );
    } finally {
      sys.policy.resume();
    }
    return { res: await call, requestId, session };
  }

  it.each([
    ['an allow signed with a key the ingress does not trust', forgedAllow, /not a trusted key of policy/],
    [
      'an unsigned error reply',
      (): ForgedAnswer => ({ value: null, error: JSON.stringify({ status: 'error', message: 'policy is down' }) }),
      /is not signed/,
    ],
    ['an unreadable answer', (): ForgedAnswer => ({ value: 'not json' }), /unreadable \(not valid JSON\)/],
  ])(
    'keeps waiting for the genuine policy answer when a forger answers first with %s: a forged answer cannot fail the call',
    async (_what, forge, reason) => {
      const forger = await policyForger(forge);
      try {
        const { res, requestId, session } = await forgedFirst(forger);
        // The genuine policy denies /secrets: its answer decides, though the forged one came first.
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ error: 'denied' });
        expect(sys.upstream.received.some((r) => r.url.includes(session))).toBe(false);
        const [event] = await rejectedEvents(requestId);
        expect(event.event).toMatchObject({
          source: 'ingress-proxy',
          sessionId: session,
          data: { topic: `${Topics.PolicyEvaluate}.reply`, reason: expect.stringMatching(reason) },
        });
      } finally {
        await forger.stop();
      }
    },
  );

  it('refuses and audits a forged answer that comes after the genuine one: losing the race leaves a trace', async () => {
    const forger = await policyForger(forgedAllow);
    try {
      forger.holdAnswers();
      const session = randomUUID();
      const res = await sys.call(`/c/demo/secrets/late-${session}`, { headers: { 'x-airlock-session-id': session } });
      expect(res.status).toBe(403);
      const request = await waitFor('the forger reading the request', async () =>
        forger.seen.find((r) => r.sessionId === session),
      );
      forger.releaseAnswers();
      const [event] = await rejectedEvents(String(request.requestId));
      expect(event.event).toMatchObject({
        source: 'ingress-proxy',
        sessionId: session,
        data: { topic: `${Topics.PolicyEvaluate}.reply`, reason: expect.stringMatching(/not a trusted key of policy/) },
      });
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
      return json(attackerKey('credential-vault').sign({ topic: `${Topics.VaultLease}.reply` }, { ...reply, sealed }));
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
