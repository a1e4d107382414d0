import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  uuidv7,
  type ApprovalDecided,
  type ApprovalRequest,
  type AuditEventDraft,
  type Principal,
} from '@airlock/contracts';
import { TestDatabase } from '@airlock/testing';
import { ApprovalService } from '../src/approval/approval.service';
import { ApproverService } from '../src/approval/approver.service';
import type { ExpiryQueue } from '../src/approval/expiry';
import { Transitions } from '../src/approval/transitions';
import type { Clock } from '../src/clock';
import type { ApprovalConfig } from '../src/config';
import { APPROVAL_ENTITIES, APPROVAL_MIGRATIONS } from '../src/database';
import { PublicError } from '@airlock/runtime';
import type { NotificationQueue } from '../src/notifications/notification.queue';
import type { ApprovalAudit } from '../src/publishing/approval-audit.service';
import type { DecisionPublisher } from '../src/publishing/decision.publisher';
import { ApprovalNotices } from '../src/store/approval-notices';
import { ApprovalEntity } from '../src/store/approval.entity';
import { ApprovalRepository, ApprovalTx } from '../src/store/approval.repository';
import { LinkTokens } from '../src/store/link-tokens';

/**
 * The approval store on the real PostgreSQL: one pending approval per operation however many
 * ask at once, conditional moves that exactly one racer wins, votes that are never lost, links
 * that work once. Kafka and Redis are stood in for by recorders: this file is about the store.
 */
describe('the approval store', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let repository: ApprovalRepository;
  let approvals: ApprovalService;
  let approvers: ApproverService;
  let notices: ApprovalNotices;
  let now = Date.now();
  const clock: Clock = () => now;
  const audited: AuditEventDraft[] = [];
  const decided: ApprovalDecided[] = [];
  const notified: string[] = [];

  const issuer = 'https://idp.test';
  const agent: Principal = { issuer, subject: 'agent-1', groups: ['agents', 'dba'] };
  const alice: Principal = { issuer, subject: 'alice', groups: ['dba'] };
  const bob: Principal = { issuer, subject: 'bob', groups: ['sre'] };
  const mallory: Principal = { issuer, subject: 'mallory', groups: ['dev'] };

  function request(over: Partial<ApprovalRequest['rules']> = {}, fingerprint = randomBytes(8).toString('hex')) {
    return (): ApprovalRequest => ({
      requestId: uuidv7(),
      sessionId: uuidv7(),
      principal: agent,
      connection: 'orders-db',
      protocol: 'postgres',
      operation: { kind: 'http', method: 'DELETE', path: '/orders' },
      fingerprint,
      reason: 'writes need a second pair of eyes',
      ruleId: 'review-writes',
      rules: { approverGroups: ['dba', 'sre'], required: 1, expiresInSeconds: 600, ...over },
      detail: 'DELETE FROM orders WHERE id = 42',
    });
  }

  async function refusal(work: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
    try {
      await work;
    } catch (err) {
      if (err instanceof PublicError) return { status: err.status, code: err.code, message: err.publicMessage };
      throw err;
    }
    throw new Error('expected a refusal');
  }

  function pendingEntity(fingerprint: string): ApprovalEntity {
    return Object.assign(new ApprovalEntity(), {
      id: uuidv7(),
      state: 'pending',
      requesterIssuer: issuer,
      requesterSubject: 'agent-1',
      requesterGroups: ['agents'],
      connection: 'orders-db',
      protocol: 'postgres',
      fingerprint,
      sessionId: uuidv7(),
      requestId: uuidv7(),
      ruleId: null,
      reason: 'review',
      detail: 'DELETE FROM orders',
      approverGroups: ['dba'],
      required: 1,
      grantSeconds: 0,
      createdAt: new Date(now),
      expiresAt: new Date(now + 60_000),
      grantUntil: null,
      decidedAt: null,
      usedAt: null,
    } satisfies ApprovalEntity);
  }

  const inTx = <T>(work: (tx: ApprovalTx) => Promise<T>): Promise<T> => ds.transaction((m) => work(new ApprovalTx(m)));

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await TestDatabase.create('airlock_approval');
    ds = new DataSource({
      type: 'postgres',
      url: db.url,
      entities: APPROVAL_ENTITIES,
      migrations: APPROVAL_MIGRATIONS,
      migrationsTableName: 'approval_migrations',
      extra: { max: 20 },
    });
    await ds.initialize();
    await ds.runMigrations();
    repository = new ApprovalRepository(ds);
    const linkKey = randomBytes(32).toString('base64');
    const config = {
      APPROVAL_PUBLIC_URL: 'https://approvals.test',
      OIDC_ISSUERS: [{ issuer, jwksUri: `${issuer}/jwks` }],
      APPROVAL_ADMIN_GROUPS: { [issuer]: ['airlock-admins'] },
      APPROVAL_APPROVER_GROUPS: { [issuer]: ['dba', 'sre'] },
      APPROVAL_LINK_KEY: linkKey,
      AUDIT_TIMEOUT_MS: 2000,
      APPROVAL_USE_WITHIN_SECONDS: 3600,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 8082,
    } as unknown as ApprovalConfig;
    const audit = { emit: async (...drafts: AuditEventDraft[]) => void audited.push(...drafts) };
    const decisions = { decided: async (d: ApprovalDecided) => void decided.push(d) };
    const transitions = new Transitions(
      repository,
      audit as unknown as ApprovalAudit,
      decisions as unknown as DecisionPublisher,
      clock,
    );
    const links = new LinkTokens(config);
    const queue = { enqueue: async (id: string) => void notified.push(id) };
    const expiry = { schedule: async () => undefined };
    approvals = new ApprovalService(
      repository,
      transitions,
      queue as unknown as NotificationQueue,
      expiry as unknown as ExpiryQueue,
      config,
      clock,
    );
    approvers = new ApproverService(repository, transitions, links, config, clock);
    notices = new ApprovalNotices(repository, links, config, clock);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  describe('the repository', () => {
    it('holds at most one pending approval per principal and exact operation', async () => {
      const fp = randomBytes(8).toString('hex');
      const first = pendingEntity(fp);
      await inTx((tx) => tx.insert(first));
      await expect(inTx((tx) => tx.insert(pendingEntity(fp)))).rejects.toMatchObject({
        driverError: { code: '23505' },
      });
      // Another operation, or the same one once the first is no longer pending, is fine.
      await inTx((tx) => tx.insert(pendingEntity(`${fp}-other`)));
      now += 60_000;
      expect(await inTx((tx) => tx.expire(first.id, new Date(now)))).toBe(true);
      await inTx((tx) => tx.insert(pendingEntity(fp)));
    });

    it('expires only what is pending and past its time, once', async () => {
      const a = pendingEntity(randomBytes(8).toString('hex'));
      await inTx((tx) => tx.insert(a));
      expect(await inTx((tx) => tx.expire(a.id, new Date(a.expiresAt.getTime() - 1)))).toBe(false);
      const racing = await Promise.all([1, 2, 3].map(() => inTx((tx) => tx.expire(a.id, a.expiresAt))));
      expect(racing.filter(Boolean)).toHaveLength(1);
      expect((await repository.find(a.id))?.approval.state).toBe('expired');
    });

    it('lets exactly one of two concurrent uses of a one-time approval win', async () => {
      const a = pendingEntity(randomBytes(8).toString('hex'));
      await inTx((tx) => tx.insert(a));
      await inTx((tx) => tx.settle(a.id, 'approved', new Date(now)));
      const racing = await Promise.all([1, 2].map(() => inTx((tx) => tx.use(a.id, new Date(now)))));
      expect(racing.sort()).toEqual([false, true]);
      expect((await repository.find(a.id))?.approval).toMatchObject({ state: 'used' });
    });

    it('never uses up an approval with a grant window', async () => {
      const a = pendingEntity(randomBytes(8).toString('hex'));
      await inTx((tx) => tx.insert(a));
      await inTx((tx) => tx.settle(a.id, 'approved', new Date(now), new Date(now + 60_000)));
      expect(await inTx((tx) => tx.use(a.id, new Date(now)))).toBe(false);
    });

    it('records a link once, also when two use it at the same moment', async () => {
      const a = pendingEntity(randomBytes(8).toString('hex'));
      await inTx((tx) => tx.insert(a));
      const jti = randomBytes(16).toString('base64url');
      const racing = await Promise.all([1, 2].map(() => inTx((tx) => tx.useLink(jti, a.id, new Date(now)))));
      expect(racing.sort()).toEqual([false, true]);
      expect(await inTx((tx) => tx.useLink(jti, a.id, new Date(now)))).toBe(false);
      expect(await inTx((tx) => tx.linkUsed(jti))).toBe(true);
    });
  });

  describe('the workflow on it', () => {
    it('creates one pending approval however many identical requests arrive at once', async () => {
      const make = request();
      const before = notified.length;
      const replies = await Promise.all(Array.from({ length: 6 }, () => approvals.request(make())));
      const ids = new Set(replies.map((r) => r.approvalId));
      expect(ids.size).toBe(1);
      expect(replies.every((r) => r.state === 'pending')).toBe(true);
      expect(replies.filter((r) => !r.reused)).toHaveLength(1);
      expect(notified.length - before).toBe(1);
      const [id] = ids;
      expect(replies[0].url).toBe(`https://approvals.test/approvals/${id}`);
      const requested = audited.filter(
        (e) => e.type === 'approval.changed' && e.data.approvalId === id && e.data.action === 'request',
      );
      expect(requested).toHaveLength(1);
      expect(requested[0]).toMatchObject({ actor: agent, data: { from: null, to: 'pending', via: 'kafka' } });
    });

    it('counts both of two concurrent votes, and a one-time approval lets exactly one operation run', async () => {
      const make = request({ required: 2 });
      const { approvalId } = await approvals.request(make());
      const carol: Principal = { issuer, subject: 'carol', groups: ['dba'] };
      const views = await Promise.all(
        [alice, bob, carol].map((who) => approvers.decide(who, approvalId, 'approve', {}, 'api').catch((e) => e)),
      );
      const accepted = views.filter((v) => !(v instanceof Error));
      const refused = views.filter((v) => v instanceof Error) as PublicError[];
      // Whoever came third found it approved already.
      expect(accepted).toHaveLength(2);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ status: 409, publicMessage: expect.stringMatching(/approved/) });
      const stored = await approvers.show(alice, approvalId);
      expect(stored).toMatchObject({ state: 'approved', required: 2 });
      expect(stored.approvals).toHaveLength(2);
      expect(decided.filter((d) => d.approvalId === approvalId)).toEqual([
        expect.objectContaining({ state: 'approved', decidedBy: expect.arrayContaining([expect.anything()]) }),
      ]);

      const racing = await Promise.all([approvals.request(make()), approvals.request(make())]);
      expect(racing.map((r) => r.state).sort()).toEqual(['approved', 'pending']);
      expect(racing.find((r) => r.state === 'approved')?.approvalId).toBe(approvalId);
      expect(racing.find((r) => r.state === 'pending')?.approvalId).not.toBe(approvalId);
      expect((await approvers.show(alice, approvalId)).state).toBe('used');
    });

    it('refuses outsiders, the requester, a second vote by the same approver and a decided approval', async () => {
      const { approvalId } = await approvals.request(request({ required: 2 })());
      expect(await refusal(approvers.decide(mallory, approvalId, 'approve', {}, 'api'))).toMatchObject({
        status: 403,
        message: 'only members of dba, sre may decide this approval',
      });
      expect(await refusal(approvers.decide(agent, approvalId, 'approve', {}, 'api'))).toMatchObject({
        status: 403,
        message: 'the requester cannot approve its own request',
      });
      expect(await refusal(approvers.show(mallory, approvalId))).toMatchObject({ status: 403 });
      await approvers.decide(alice, approvalId, 'approve', { comment: 'looks fine' }, 'api');
      expect(await refusal(approvers.decide(alice, approvalId, 'approve', {}, 'api'))).toMatchObject({ status: 409 });
      const denied = await approvers.decide(bob, approvalId, 'deny', { comment: 'not on a Friday' }, 'api');
      expect(denied).toMatchObject({
        state: 'denied',
        denial: { approver: { subject: 'bob' }, comment: 'not on a Friday' },
      });
      expect(await refusal(approvers.decide(bob, approvalId, 'approve', {}, 'api'))).toMatchObject({
        status: 409,
        message: expect.stringContaining('denied'),
      });
      expect(decided.find((d) => d.approvalId === approvalId)).toMatchObject({
        state: 'denied',
        decidedBy: [bob],
        comment: 'not on a Friday',
      });
      expect(await refusal(approvers.show(alice, uuidv7()))).toMatchObject({ status: 404 });
    });

    it('lets a signed link decide once, with an entitled approver only', async () => {
      const { approvalId } = await approvals.request(request()());
      const notice = await notices.notice(approvalId);
      expect(notice).toMatchObject({ approvalId, state: 'pending', required: 1, principal: agent });
      const token = (notice?.approveUrl ?? '').split('/approvals/links/')[1];
      expect(await refusal(approvers.decideByLink(agent, token, {}))).toMatchObject({ status: 403 });
      expect(await refusal(approvers.decideByLink(mallory, token, {}))).toMatchObject({ status: 403 });
      // Refusals spend nothing: the entitled approver's use of the same link still counts.
      expect(await approvers.decideByLink(alice, token, {})).toMatchObject({ state: 'approved' });
      expect(await refusal(approvers.decideByLink(bob, token, {}))).toMatchObject({ status: 410, code: 'link_used' });
      expect((await approvers.show(alice, approvalId)).approvals).toEqual([
        expect.objectContaining({ approver: { issuer, subject: 'alice' }, via: 'link' }),
      ]);
      expect(await notices.notice('not-an-id')).toBeNull();
    });

    it('persists an expiry on read, announcing it once', async () => {
      const make = request({ expiresInSeconds: 1 });
      const { approvalId } = await approvals.request(make());
      now += 1000;
      const reads = await Promise.all([approvers.show(alice, approvalId), approvers.show(bob, approvalId)]);
      expect(reads.map((r) => r.state)).toEqual(['expired', 'expired']);
      expect(await refusal(approvers.decide(alice, approvalId, 'approve', {}, 'api'))).toMatchObject({
        status: 409,
        message: expect.stringContaining('expired'),
      });
      expect(decided.filter((d) => d.approvalId === approvalId)).toEqual([
        expect.objectContaining({ state: 'expired', decidedBy: [] }),
      ]);
      const expiries = audited.filter(
        (e) => e.type === 'approval.changed' && e.data.approvalId === approvalId && e.data.action === 'expire',
      );
      expect(expiries).toEqual([
        expect.objectContaining({ actor: null, data: expect.objectContaining({ via: 'expiry' }) }),
      ]);
      // The same operation asked again is a new approval.
      expect((await approvals.request(make())).approvalId).not.toBe(approvalId);
    });

    it('honours a grant window until it ends', async () => {
      const make = request({ grantSeconds: 60 });
      const { approvalId } = await approvals.request(make());
      const view = await approvers.decide(bob, approvalId, 'approve', {}, 'api');
      expect(view.grantUntil).toBe(new Date(now + 60_000).toISOString());
      for (let i = 0; i < 3; i++) {
        expect(await approvals.request(make())).toMatchObject({
          state: 'approved',
          approvalId,
          grantUntil: view.grantUntil,
        });
      }
      now += 60_000;
      expect(await approvals.request(make())).toMatchObject({ state: 'pending' });
    });

    it('cancels at the requester’s word only', async () => {
      const { approvalId, requestId } = await approvals.request(request()());
      const cancel = { approvalId, requestId, sessionId: uuidv7(), reason: 'client hung up' };
      await approvals.cancel({ ...cancel, principal: alice });
      expect((await approvers.show(alice, approvalId)).state).toBe('pending');
      await approvals.cancel({ ...cancel, principal: agent });
      expect((await approvers.show(alice, approvalId)).state).toBe('cancelled');
      expect(decided.find((d) => d.approvalId === approvalId)).toMatchObject({
        state: 'cancelled',
        decidedBy: [agent],
        comment: 'client hung up',
      });
    });
  });
});
