import { ConsoleLogger, Logger } from '@nestjs/common';
import { RateLimitError, UnrecoverableError } from 'bullmq';
import type { AuditEventDraft } from '@airlock/contracts';
import type { Channel } from './channels';
import type { NotificationDeliveryEntity } from './notification-delivery.entity';
import type { DeliveryOutcome, DeliveryRecords } from './notification-delivery.repository';
import {
  AuditPendingError,
  MAX_RATE_LIMITED_RUNS,
  NotificationProcessor,
  RetryableFailure,
  type NotificationJobRun,
} from './notification.processor';
import type { ApprovalNotice } from './notice';
import type { SendOutcome } from './outcome';
import type { NotificationSender } from './sender';

const ID = '0192f0c0-0000-7000-8000-000000000001';
const NOW = Date.parse('2025-12-05T12:00:00Z');

function notice(over: Partial<ApprovalNotice> = {}): ApprovalNotice {
  return {
    approvalId: ID,
    state: 'pending',
    sessionId: '0192f0c0-0000-7000-8000-0000000000a1',
    requestId: '0192f0c0-0000-7000-8000-0000000000b1',
    principal: { issuer: 'https://idp', subject: 'agent', groups: [] },
    connection: 'orders-db',
    protocol: 'postgres',
    detail: 'DELETE FROM orders',
    reason: 'deletes need a human',
    required: 1,
    approverGroups: ['dba'],
    expiresAt: new Date(NOW + 3600_000),
    url: `https://a/approvals/${ID}`,
    approveUrl: 'https://a/l/approve-token',
    denyUrl: 'https://a/l/deny-token',
    ...over,
  };
}

class MemoryRecords implements DeliveryRecords {
  readonly rows = new Map<string, NotificationDeliveryEntity>();
  failWrites = false;

  async find(approvalId: string, channel: Channel): Promise<NotificationDeliveryEntity | null> {
    return this.rows.get(`${approvalId}/${channel}`) ?? null;
  }

  async record(o: DeliveryOutcome): Promise<boolean> {
    if (this.failWrites) throw new Error('database down');
    const key = `${o.approvalId}/${o.channel}`;
    if (this.rows.get(key)?.state === 'delivered') return false;
    this.rows.set(key, { ...o, updatedAt: o.at, audited: false } as NotificationDeliveryEntity);
    return true;
  }

  async markAudited(approvalId: string, channel: Channel): Promise<void> {
    const r = this.rows.get(`${approvalId}/${channel}`);
    if (r) r.audited = true;
  }
}

function setup(outcomes: SendOutcome[], opts: { notice?: ApprovalNotice | null; auditFails?: boolean } = {}) {
  const records = new MemoryRecords();
  const events: AuditEventDraft[] = [];
  const sent: ApprovalNotice[] = [];
  const limits: number[] = [];
  const sender: NotificationSender = {
    channel: 'slack',
    send: async (n) => {
      sent.push(n);
      return outcomes.shift() ?? { kind: 'delivered' };
    },
    close: async () => undefined,
  };
  const current = opts.notice === undefined ? notice() : opts.notice;
  const processor = new NotificationProcessor(
    { notice: async () => current },
    records,
    {
      emit: async (...drafts) => {
        if (opts.auditFails) throw new Error('broker down');
        events.push(...drafts);
        return [];
      },
    },
    new Map([['slack', sender]]),
    () => NOW,
  );
  const limiter = { rateLimit: async (ms: number) => void limits.push(ms) };
  const job = (attemptsMade = 0, attemptsStarted = attemptsMade + 1, attempts = 3): NotificationJobRun =>
    ({
      id: `${ID}.slack`,
      name: 'notify-slack',
      data: { approvalId: ID },
      attemptsMade,
      attemptsStarted,
      opts: { attempts },
    }) as NotificationJobRun;
  return { processor, records, events, sent, limits, limiter, job };
}

describe('the notification processor', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

  it('sends, records and audits a delivery', async () => {
    const t = setup([{ kind: 'delivered' }]);
    await expect(t.processor.process(t.job(1), t.limiter)).resolves.toBe('delivered');
    expect(t.sent).toHaveLength(1);
    expect(await t.records.find(ID, 'slack')).toMatchObject({ state: 'delivered', attempts: 2, audited: true });
    expect(t.events).toEqual([
      {
        type: 'approval.notified',
        sessionId: notice().sessionId,
        requestId: notice().requestId,
        actor: null,
        connection: 'orders-db',
        protocol: 'postgres',
        source: 'approval',
        data: { approvalId: ID, channel: 'slack', outcome: 'delivered', attempts: 2 },
      },
    ]);
  });

  it('does not send what is recorded as delivered', async () => {
    const t = setup([]);
    await t.processor.process(t.job(), t.limiter);
    await expect(t.processor.process(t.job(), t.limiter)).resolves.toBe('already-delivered');
    expect(t.sent).toHaveLength(1);
    expect(t.events).toHaveLength(1);
  });

  it('publishes a delivery whose audit event is missing, without sending again', async () => {
    const t = setup([]);
    await t.records.record({
      approvalId: ID,
      channel: 'slack',
      state: 'delivered',
      attempts: 1,
      reason: null,
      at: new Date(NOW),
    });
    await expect(t.processor.process(t.job(1), t.limiter)).resolves.toBe('already-delivered');
    expect(t.sent).toHaveLength(0);
    expect(t.events.map((e) => e.data)).toEqual([
      { approvalId: ID, channel: 'slack', outcome: 'delivered', attempts: 1 },
    ]);
    expect((await t.records.find(ID, 'slack'))?.audited).toBe(true);
  });

  it('sends nothing once the approval is no longer pending', async () => {
    const t = setup([], { notice: notice({ state: 'approved' }) });
    await expect(t.processor.process(t.job(), t.limiter)).resolves.toBe('not-pending');
    expect(t.sent).toHaveLength(0);
    expect(t.records.rows.size).toBe(0);
  });

  it('gives up on an approval that does not exist, recorded but not audited (no session to put it on)', async () => {
    const t = setup([], { notice: null });
    await expect(t.processor.process(t.job(), t.limiter)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(await t.records.find(ID, 'slack')).toMatchObject({ state: 'failed', reason: 'there is no such approval' });
    expect(t.events).toHaveLength(0);
  });

  it('honours a rate limit without recording anything', async () => {
    const t = setup([{ kind: 'rate-limited', waitMs: 2000, reason: 'HTTP 429' }]);
    await expect(t.processor.process(t.job(0, 1), t.limiter)).rejects.toBeInstanceOf(RateLimitError);
    expect(t.limits).toEqual([2000]);
    expect(t.records.rows.size).toBe(0);
  });

  it('counts a 429 as an attempt after too many rate limits in a row', async () => {
    const t = setup([{ kind: 'rate-limited', waitMs: 2000, reason: 'HTTP 429' }]);
    await expect(t.processor.process(t.job(0, MAX_RATE_LIMITED_RUNS + 1), t.limiter)).rejects.toBeInstanceOf(
      RetryableFailure,
    );
    expect(t.limits).toEqual([]);
  });

  it('retries a transient failure without recording it, until the last attempt', async () => {
    const t = setup([
      { kind: 'retry', reason: 'HTTP 503' },
      { kind: 'retry', reason: 'HTTP 502' },
    ]);
    await expect(t.processor.process(t.job(0), t.limiter)).rejects.toThrow('HTTP 503');
    expect(t.records.rows.size).toBe(0);
    await expect(t.processor.process(t.job(2), t.limiter)).rejects.toBeInstanceOf(RetryableFailure);
    expect(await t.records.find(ID, 'slack')).toMatchObject({
      state: 'failed',
      attempts: 3,
      reason: 'HTTP 502',
      audited: true,
    });
    expect(t.events.map((e) => e.data)).toEqual([
      { approvalId: ID, channel: 'slack', outcome: 'failed', attempts: 3, reason: 'HTTP 502' },
    ]);
  });

  it('gives up at once on a permanent refusal', async () => {
    const t = setup([{ kind: 'permanent', reason: 'HTTP 404: no_service' }]);
    await expect(t.processor.process(t.job(0), t.limiter)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(await t.records.find(ID, 'slack')).toMatchObject({
      state: 'failed',
      attempts: 1,
      reason: 'HTTP 404: no_service',
    });
    expect(t.events.map((e) => e.data)).toEqual([
      { approvalId: ID, channel: 'slack', outcome: 'failed', attempts: 1, reason: 'HTTP 404: no_service' },
    ]);
  });

  it('keeps the delivery when its audit event cannot be published, and retries the event only', async () => {
    const t = setup([], { auditFails: true });
    await expect(t.processor.process(t.job(0), t.limiter)).rejects.toBeInstanceOf(AuditPendingError);
    expect(await t.records.find(ID, 'slack')).toMatchObject({ state: 'delivered', audited: false });
    expect(t.sent).toHaveLength(1);
  });

  it('does not fail a sent notification because its record could not be written', async () => {
    const t = setup([]);
    t.records.failWrites = true;
    await expect(t.processor.process(t.job(0), t.limiter)).resolves.toBe('delivered');
    expect(t.events).toHaveLength(1);
  });

  it('hides the message of an unexpected error', async () => {
    const t = setup([]);
    const processor = new NotificationProcessor(
      {
        notice: async () => {
          throw new Error('password authentication failed for user "approval" at 10.0.0.5');
        },
      },
      t.records,
      { emit: async () => [] },
      new Map(),
      () => NOW,
    );
    const err = await processor.process(t.job(0), t.limiter).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableFailure);
    expect((err as Error).message).toBe('internal error (Error)');
  });

  it('refuses job data that breaks the contract', async () => {
    const t = setup([]);
    const bad = { ...t.job(), data: { approvalId: 'nope' } } as NotificationJobRun;
    await expect(t.processor.process(bad, t.limiter)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(t.sent).toHaveLength(0);
  });
});
