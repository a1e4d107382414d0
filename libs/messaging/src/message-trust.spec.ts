import { Logger } from '@nestjs/common';
import { RpcException, type KafkaContext } from '@nestjs/microservices';
import { Topics, uuidv7, type PolicyDecision, type VaultLeaseRequest } from '@airlock/contracts';
import { MessageSigner, TrustedKeys, generateSigningKeyPair } from '@airlock/sealing';
import { NestKafkaHeaders } from './headers';
import { messageRejectedEvent, type RejectedMessage } from './message-trust';
import { SignedRpcError, answerRequest, consumeEvent } from './nest';

const pair = (): { signer: (name: string) => MessageSigner; publicKeyPem: string } => {
  const p = generateSigningKeyPair();
  return { signer: (name) => MessageSigner.fromPem(name, p.privateKeyPem), publicKeyPem: p.publicKeyPem };
};
const ingress = pair();
const vault = pair();
const approval = pair();
const trust = TrustedKeys.fromJson(
  JSON.stringify({
    keys: [
      { signer: 'ingress-proxy', publicKey: ingress.publicKeyPem },
      { signer: 'credential-vault', publicKey: vault.publicKeyPem },
      { signer: 'approval', publicKey: approval.publicKeyPem },
    ],
  }),
);
const logger = new Logger('test');
const ctx = (correlationId: string): KafkaContext =>
  ({
    getMessage: () => ({ headers: { [NestKafkaHeaders.CorrelationId]: Buffer.from(correlationId) } }),
  }) as unknown as KafkaContext;

beforeAll(() => Logger.overrideLogger(false));

describe('answerRequest with signatures', () => {
  const request = (): VaultLeaseRequest => ({
    requestId: uuidv7(),
    connection: 'billing',
    ingressInstance: 'i-1',
    publicKey: Buffer.alloc(32, 1).toString('base64'),
  });

  it('answers a request signed by a trusted ingress key, and signs the reply for this exchange', async () => {
    const req = ingress.signer('ingress-proxy').sign({ topic: Topics.VaultLease, correlationId: 'c1' }, request());
    const reply = await answerRequest(
      Topics.VaultLease,
      req,
      ctx('c1'),
      logger,
      () => ({
        requestId: req.requestId,
        leaseId: uuidv7(),
        connection: 'billing',
        protocol: 'http' as const,
        upstream: 'https://billing.example',
        credentialKind: 'bearer' as const,
        agentCredentialHeaders: [],
        expiresAt: new Date().toISOString(),
        secretVersion: 1,
        sealed: {
          alg: 'X25519-HKDF-SHA256-A256GCM' as const,
          ephemeralPublicKey: 'a',
          iv: 'b',
          ciphertext: 'c',
          tag: 'd',
        },
      }),
      { signer: vault.signer('credential-vault'), trust },
    );
    expect(
      trust.verify({ topic: `${Topics.VaultLease}.reply`, correlationId: 'c1' }, reply, ['credential-vault']),
    ).toEqual({
      signer: 'credential-vault',
      keyId: vault.signer('credential-vault').keyId,
    });
    expect(() =>
      trust.verify({ topic: `${Topics.VaultLease}.reply`, correlationId: 'c2' }, reply, ['credential-vault']),
    ).toThrow();
  });

  it.each([
    ['unsigned', (r: VaultLeaseRequest) => r, /is not signed/],
    [
      'signed by an untrusted key',
      (r: VaultLeaseRequest) =>
        pair().signer('ingress-proxy').sign({ topic: Topics.VaultLease, correlationId: 'c1' }, r),
      /not a trusted key/,
    ],
    [
      'signed by another trusted service',
      (r: VaultLeaseRequest) => approval.signer('approval').sign({ topic: Topics.VaultLease, correlationId: 'c1' }, r),
      /signed by approval, which may not sign there/,
    ],
    [
      'signed for another exchange',
      (r: VaultLeaseRequest) =>
        ingress.signer('ingress-proxy').sign({ topic: Topics.VaultLease, correlationId: 'other' }, r),
      /does not verify/,
    ],
  ])('refuses a request %s, never runs the handler, and reports it', async (_what, sign, reason) => {
    const rejected: RejectedMessage[] = [];
    let ran = false;
    const req = sign(request());
    await expect(
      answerRequest(Topics.VaultLease, req, ctx('c1'), logger, () => ((ran = true), undefined as never), {
        trust,
        onRejected: (r) => rejected.push(r),
      }),
    ).rejects.toThrow();
    expect(ran).toBe(false);
    expect(rejected).toEqual([
      expect.objectContaining({
        topic: Topics.VaultLease,
        reason: expect.stringMatching(reason),
        requestId: req.requestId,
      }),
    ]);
    expect(messageRejectedEvent('credential-vault', rejected[0])).toMatchObject({
      type: 'message.rejected',
      requestId: req.requestId,
      source: 'credential-vault',
      data: { topic: Topics.VaultLease },
    });
  });
});

describe('error replies with signatures', () => {
  const request = (): VaultLeaseRequest =>
    ingress
      .signer('ingress-proxy')
      .sign(
        { topic: Topics.VaultLease, correlationId: 'c1' },
        { requestId: uuidv7(), connection: 'billing', ingressInstance: 'i-1', publicKey: 'AAAA' },
      );
  const refusal = async (handler: () => never, payload: unknown = request()): Promise<unknown> => {
    try {
      await answerRequest(Topics.VaultLease, payload, ctx('c1'), logger, handler, {
        signer: vault.signer('credential-vault'),
        trust,
      });
    } catch (err) {
      return err;
    }
    throw new Error('answered');
  };
  const verifies = (body: unknown, correlationId = 'c1'): boolean => {
    try {
      trust.verify({ topic: `${Topics.VaultLease}.reply`, correlationId }, body, ['credential-vault']);
      return true;
    } catch {
      return false;
    }
  };

  it.each([
    [
      'a refusal of the handler',
      new RpcException({ status: 'error', message: 'unknown connection' }),
      'unknown connection',
    ],
    ['an unexpected error', new Error('disk on fire'), 'internal error'],
  ])('signs %s for this exchange, so a verifying caller can tell it from a forgery', async (_what, thrown, message) => {
    const err = await refusal(() => {
      throw thrown;
    });
    expect(err).toBeInstanceOf(SignedRpcError);
    const body = (err as SignedRpcError).getError();
    expect(body).toMatchObject({ status: 'error', message });
    expect(verifies(body)).toBe(true);
    expect(verifies(body, 'c2')).toBe(false);
    // An exception filter that knows the refusal better signs its own body the same way.
    expect(verifies((err as SignedRpcError).sign({ status: 'error' as const, message: 'better' }))).toBe(true);
  });

  it("logs an unexpected error once when Nest's own filter sends the reply, as that filter would have", async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const err = (await refusal(() => {
        throw new Error('disk on fire');
      })) as SignedRpcError;
      expect(error).not.toHaveBeenCalled();
      err.getError();
      err.getError();
      expect(error).toHaveBeenCalledTimes(1);
      expect(error.mock.calls[0][0]).toMatchObject({ err: expect.stringContaining('disk on fire') });
      error.mockClear();
      const refused = (await refusal(() => {
        throw new RpcException({ status: 'error', message: 'unknown connection' });
      })) as SignedRpcError;
      refused.getError();
      expect(error).not.toHaveBeenCalled();
    } finally {
      error.mockRestore();
    }
  });

  it("signs the service's own refusals too: a request that breaks its contract", async () => {
    const body = ((await refusal(() => undefined as never, { requestId: 'x' })) as SignedRpcError).getError();
    expect(body).toMatchObject({ status: 'error', message: expect.stringMatching(/requestId|connection/) });
    expect(verifies(body)).toBe(true);
  });

  it('leaves an error reply unsigned where the service has no signing key', async () => {
    const err = await answerRequest(
      Topics.VaultLease,
      { requestId: 'x' },
      ctx('c1'),
      logger,
      () => undefined as never,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcException);
    expect(err).not.toBeInstanceOf(SignedRpcError);
  });
});

describe('consumeEvent with signatures', () => {
  const decided = {
    approvalId: uuidv7(),
    state: 'approved' as const,
    decidedBy: [],
    decidedAt: new Date().toISOString(),
  };

  it('acts on a decision the approval service signed, and on nothing else', async () => {
    const seen: string[] = [];
    const rejected: RejectedMessage[] = [];
    const security = { trust, onRejected: (r: RejectedMessage) => rejected.push(r) };
    const handle = (e: unknown) =>
      consumeEvent(Topics.ApprovalDecided, e, logger, (ev) => void seen.push(ev.approvalId), security);
    await handle(approval.signer('approval').sign({ topic: Topics.ApprovalDecided }, decided));
    await handle(decided);
    await handle(ingress.signer('ingress-proxy').sign({ topic: Topics.ApprovalDecided }, decided));
    await handle(pair().signer('approval').sign({ topic: Topics.ApprovalDecided }, decided));
    expect(seen).toEqual([decided.approvalId]);
    expect(rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/not signed/),
      expect.stringMatching(/signed by ingress-proxy/),
      expect.stringMatching(/not a trusted key of approval/),
    ]);
  });

  it('leaves events unchecked where no trust is configured (the recorder records every decision)', async () => {
    const seen: PolicyDecision[] = [];
    await consumeEvent(Topics.ApprovalDecided, decided, logger, () => void seen.push({} as PolicyDecision));
    expect(seen).toHaveLength(1);
  });
});
