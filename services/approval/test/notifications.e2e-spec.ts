import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Logger, Module, type INestApplication } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { Queues, uuidv7, type AuditEventDraft } from '@airlock/contracts';
import { IdentityModule, identityConfigFromSettings } from '@airlock/identity';
import { KAFKA } from '@airlock/messaging';
import {
  SlackSink,
  SmtpSink,
  TestDatabase,
  TestIdentityProvider,
  buttonUrls,
  freePort,
  infraEnv,
  runId,
  serviceKafkaEnv,
  serviceSigningEnv,
  waitFor,
} from '@airlock/testing';
import { ApprovalExceptionFilter } from '../src/approval-exception.filter';
import { CLOCK } from '../src/clock';
import { APPROVAL_CONFIG, approvalConfig } from '../src/config';
import { approvalDatabase } from '../src/database';
import { CreateApprovalNotifications1765100000000 } from '../src/migrations/1765100000000-create-approval-notifications';
import type { Channel, NotificationSettings } from '../src/notifications/channels';
import { NotificationDeliveryEntity } from '../src/notifications/notification-delivery.entity';
import { NotificationDeliveryRepository } from '../src/notifications/notification-delivery.repository';
import { NotificationQueue, NotificationQueueError } from '../src/notifications/notification.queue';
import { NotificationWorkers } from '../src/notifications/notification.worker';
import type { ApprovalNotice, NoticeSource } from '../src/notifications/notice';
import { NotificationsModule } from '../src/notifications/notifications.module';
import { PublishingModule } from '../src/publishing/publishing.module';

/**
 * The notification workers against the real Redis and PostgreSQL, a stand-in Slack webhook
 * and a stand-in SMTP server: rate limits honoured without spending attempts, outages retried
 * until they end, permanent refusals given up at once, and nothing sent twice.
 */
describe('approval notification workers', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let deliveries: NotificationDeliveryRepository;
  let slack: SlackSink;
  let smtp: SmtpSink;
  let stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    db = await TestDatabase.create('approval_notify');
    ds = new DataSource({
      type: 'postgres',
      url: db.url,
      entities: [NotificationDeliveryEntity],
      migrations: [CreateApprovalNotifications1765100000000],
      migrationsTableName: 'approval_migrations',
    });
    await ds.initialize();
    await ds.runMigrations();
    deliveries = new NotificationDeliveryRepository(ds);
    slack = await SlackSink.start();
    smtp = await SmtpSink.start();
  });

  afterEach(async () => {
    for (const stop of stops.reverse()) await stop();
    stops = [];
  });

  afterAll(async () => {
    await slack?.stop();
    await smtp?.stop();
    await ds?.destroy();
    await db?.drop();
  });

  function notice(over: Partial<ApprovalNotice> = {}): ApprovalNotice {
    const id = uuidv7();
    return {
      approvalId: id,
      state: 'pending',
      sessionId: uuidv7(),
      requestId: uuidv7(),
      principal: { issuer: 'https://idp.test', subject: 'copilot-agent', groups: ['agents'] },
      connection: 'orders-db',
      protocol: 'postgres',
      detail: "DELETE FROM orders WHERE placed_at < '2020-01-01'",
      reason: 'deletes need a human',
      ruleId: 'deletes-reviewed',
      required: 1,
      approverGroups: ['dba'],
      expiresAt: new Date(Date.now() + 3600_000),
      url: `http://approval.test/approvals/${id}`,
      approveUrl: `http://approval.test/approvals/links/approve-${runId()}`,
      denyUrl: `http://approval.test/approvals/links/deny-${runId()}`,
      ...over,
    };
  }

  /** A queue and a worker on a Redis key prefix of their own, with a stub notice source and audit. */
  function start(channels: { slack?: boolean; email?: boolean }, redisUrl = infraEnv().REDIS_URL) {
    const prefix = `airlock-test-${runId()}`;
    const settings: NotificationSettings = {
      REDIS_URL: redisUrl,
      SLACK_WEBHOOK_URL: channels.slack ? slack.url : undefined,
      SMTP_URL: channels.email ? smtp.url : undefined,
      EMAIL_FROM: 'airlock@approval.test',
      EMAIL_TO: channels.email ? ['approvers@approval.test'] : [],
      NOTIFY_ATTEMPTS: 8,
      NOTIFY_BACKOFF_MS: 200,
      NOTIFY_TIMEOUT_MS: 3000,
      NOTIFY_MAX_PER_SECOND: 20,
      APPROVAL_QUEUE_PREFIX: prefix,
    };
    const notices = new Map<string, ApprovalNotice>();
    const source: NoticeSource = { notice: async (id) => notices.get(id) ?? null };
    const events: AuditEventDraft[] = [];
    const audit = {
      emit: async (...drafts: AuditEventDraft[]) => {
        events.push(...drafts);
        return [];
      },
    };
    const queue = new NotificationQueue(settings);
    const workers = new NotificationWorkers(settings, source, deliveries, audit, () => Date.now());
    workers.start();
    /** Drops every job of this prefix from Redis, as a Redis without persistence does when it restarts. */
    const forgetJobs = async (): Promise<void> => {
      const redis = new Redis(settings.REDIS_URL, { maxRetriesPerRequest: null });
      const q = new Queue(Queues.ApprovalNotifications, { connection: redis, prefix });
      await q.obliterate({ force: true });
      await q.close();
      await redis.quit();
    };
    stops.push(async () => {
      await workers.close();
      await queue.onApplicationShutdown();
      await forgetJobs();
    });
    return {
      queue,
      workers,
      events,
      forgetJobs,
      add(n: ApprovalNotice): ApprovalNotice {
        notices.set(n.approvalId, n);
        return n;
      },
    };
  }

  const recordOf = (approvalId: string, channel: Channel, state: 'delivered' | 'failed') =>
    waitFor(`${channel} notification of ${approvalId} ${state}`, async () => {
      const r = await deliveries.find(approvalId, channel);
      return r?.state === state && r.audited ? r : undefined;
    });

  const slackAttempts = (approvalId: string) => slack.attempts.filter((a) => a.text.includes(approvalId));

  it('waits out a 429 as its Retry-After says, then delivers once without spending an attempt', async () => {
    const t = start({ slack: true });
    const n = t.add(notice());
    slack.answer({ status: 429, headers: { 'retry-after': '2' }, body: 'rate_limited' });
    await t.queue.enqueue(n.approvalId);
    await t.queue.enqueue(n.approvalId); // queued twice, one job

    const record = await recordOf(n.approvalId, 'slack', 'delivered');
    const seen = slackAttempts(n.approvalId);
    expect(seen.map((a) => a.status)).toEqual([429, 200]);
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(2000);
    expect(record.attempts).toBe(1);

    const [message] = slack.about(n.approvalId);
    expect(slack.about(n.approvalId)).toHaveLength(1);
    expect(buttonUrls(message)).toEqual([n.approveUrl, n.denyUrl]);
    expect(message.text).toContain(n.url);
    expect(message.text).toContain('DELETE FROM orders WHERE placed_at &lt; ');

    expect(t.events).toEqual([
      expect.objectContaining({
        type: 'approval.notified',
        sessionId: n.sessionId,
        requestId: n.requestId,
        actor: null,
        connection: 'orders-db',
        protocol: 'postgres',
        source: 'approval',
        data: { approvalId: n.approvalId, channel: 'slack', outcome: 'delivered', attempts: 1 },
      }),
    ]);
    // BullMQ counts the run that completed; the rate-limited one is not counted.
    const [job] = await t.queue.jobsOf(n.approvalId);
    expect(job).toMatchObject({ channel: 'slack', state: 'completed', attempts: 1 });
  });

  it('retries while the SMTP server is down and delivers once when it is back', async () => {
    await smtp.down();
    const t = start({ email: true });
    const n = t.add(notice({ detail: 'DROP TABLE customers', reason: '<b>drops</b> & "truncates" need a human' }));
    await t.queue.enqueue(n.approvalId);

    await waitFor('two failed attempts', async () => {
      const [job] = await t.queue.jobsOf(n.approvalId);
      return job !== undefined && job.attempts >= 2;
    });
    expect(await deliveries.find(n.approvalId, 'email')).toBeNull();
    await smtp.up();

    const record = await recordOf(n.approvalId, 'email', 'delivered');
    expect(record.attempts).toBeGreaterThanOrEqual(3);
    const mails = smtp.about(n.approvalId);
    expect(mails).toHaveLength(1);
    expect(mails[0].from).toBe('airlock@approval.test');
    expect(mails[0].to).toEqual(['approvers@approval.test']);
    expect(mails[0].raw).toMatch(/^Subject: Approval needed: orders-db DROP TABLE customers\r?$/m);
    const [text, html] = mails[0].raw.split(/^Content-Type: text\/html.*$/m);
    expect(text).toContain('Why:     <b>drops</b> & "truncates" need a human');
    expect(html).toContain('&lt;b&gt;drops&lt;/b&gt; &amp; &quot;truncates&quot; need a human');
    expect(html).not.toContain('<b>drops</b>');
    expect(mails[0].raw).toContain(n.approveUrl);
    expect(t.events.map((e) => e.data)).toEqual([
      { approvalId: n.approvalId, channel: 'email', outcome: 'delivered', attempts: record.attempts },
    ]);
  });

  it('gives up on a 404 from the webhook at once: one request, recorded and audited as failed', async () => {
    const t = start({ slack: true });
    const n = t.add(notice());
    slack.answer({ status: 404, body: 'no_service' });
    await t.queue.enqueue(n.approvalId);

    const record = await recordOf(n.approvalId, 'slack', 'failed');
    expect(record).toMatchObject({ state: 'failed', attempts: 1, reason: 'HTTP 404: no_service' });
    const job = await waitFor('the job failed', async () => {
      const [j] = await t.queue.jobsOf(n.approvalId);
      return j?.state === 'failed' ? j : undefined;
    });
    expect(job.attempts).toBe(1);
    expect(slackAttempts(n.approvalId)).toHaveLength(1);
    expect(t.events.map((e) => e.data)).toEqual([
      { approvalId: n.approvalId, channel: 'slack', outcome: 'failed', attempts: 1, reason: 'HTTP 404: no_service' },
    ]);
  });

  it('notifies on both channels, and nothing for an approval decided before its turn', async () => {
    const t = start({ slack: true, email: true });
    const decided = t.add(notice({ state: 'approved' }));
    const pending = t.add(notice());
    await t.queue.enqueue(decided.approvalId);
    await t.queue.enqueue(pending.approvalId);

    await recordOf(pending.approvalId, 'slack', 'delivered');
    await recordOf(pending.approvalId, 'email', 'delivered');
    await waitFor('the decided approval’s jobs completed', async () => {
      const jobs = await t.queue.jobsOf(decided.approvalId);
      return jobs.length === 2 && jobs.every((j) => j.state === 'completed');
    });
    expect(slack.about(pending.approvalId)).toHaveLength(1);
    expect(smtp.about(pending.approvalId)).toHaveLength(1);
    expect(slack.about(decided.approvalId)).toHaveLength(0);
    expect(smtp.about(decided.approvalId)).toHaveLength(0);
    expect(await deliveries.ofApproval(decided.approvalId)).toEqual([]);
  });

  it('does not send again a notification queued anew after Redis lost its completed job', async () => {
    const t = start({ slack: true });
    const n = t.add(notice());
    await t.queue.enqueue(n.approvalId);
    await recordOf(n.approvalId, 'slack', 'delivered');

    await t.forgetJobs();
    expect(await t.queue.jobsOf(n.approvalId)).toEqual([]);
    await t.queue.enqueue(n.approvalId);
    await waitFor('the new job completed', async () => {
      const [job] = await t.queue.jobsOf(n.approvalId);
      return job?.state === 'completed';
    });
    expect(slack.about(n.approvalId)).toHaveLength(1);
    expect(t.events).toHaveLength(1);
  });

  it('keeps working across a Redis restart, and refuses to queue while Redis is away', async () => {
    // A Redis of this test's own: the shared one must not go down under other runs.
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'airlock-redis-'));
    const redisUrl = `redis://127.0.0.1:${port}`;
    let server: ChildProcess | undefined;
    const up = async (): Promise<void> => {
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
        stdio: 'ignore',
      });
      const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      await waitFor('the test Redis', async () => (await probe.connect().then(() => probe.ping())) === 'PONG');
      probe.disconnect();
    };
    const down = async (): Promise<void> => {
      const s = server;
      server = undefined;
      if (!s || s.exitCode !== null) return;
      const exited = new Promise((resolve) => s.once('exit', resolve));
      s.kill('SIGKILL');
      await exited;
    };
    await up();
    stops.push(async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    });
    const t = start({ slack: true }, redisUrl);

    const before = t.add(notice());
    await t.queue.enqueue(before.approvalId);
    await recordOf(before.approvalId, 'slack', 'delivered');

    await down();
    const refused = t.add(notice());
    const startedAt = Date.now();
    await expect(t.queue.enqueue(refused.approvalId)).rejects.toBeInstanceOf(NotificationQueueError);
    expect(Date.now() - startedAt).toBeLessThan(5000);
    await up();

    const after = t.add(notice());
    await t.queue.enqueue(after.approvalId);
    await recordOf(after.approvalId, 'slack', 'delivered');
    expect(slack.about(after.approvalId)).toHaveLength(1);
    expect(slack.about(refused.approvalId)).toHaveLength(0);
  });
});

/**
 * The admin API over the delivery records, in a Nest application with the service's store,
 * token verification and error filter: Kafka is a stub (nothing here publishes but refusals).
 */
describe('notifications admin API', () => {
  let db: TestDatabase;
  let idp: TestIdentityProvider;
  let slack: SlackSink;
  let app: INestApplication;
  let base: string;
  let prefix: string;
  let admin: string;
  let approver: string;

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    db = await TestDatabase.create('approval_notify_api');
    idp = await TestIdentityProvider.start();
    slack = await SlackSink.start();
    prefix = `airlock-test-${runId()}`;
    const config = approvalConfig({
      ...serviceKafkaEnv('approval'),
      ...serviceSigningEnv('approval'),
      HTTP_PORT: '0',
      DATABASE_URL: db.url,
      REDIS_URL: infraEnv().REDIS_URL,
      OIDC_ISSUERS: JSON.stringify([{ issuer: idp.issuer, jwksUri: idp.jwksUri }]),
      OIDC_AUDIENCE: 'airlock',
      ALLOW_INSECURE_JWKS: 'true',
      APPROVAL_LINK_KEY: randomBytes(32).toString('base64'),
      APPROVAL_QUEUE_PREFIX: prefix,
      APPROVAL_WORKERS: 'false',
      SLACK_WEBHOOK_URL: slack.url,
    });
    const producer = { connect: async () => undefined, disconnect: async () => undefined, send: async () => [] };

    @Global()
    @Module({
      providers: [
        { provide: APPROVAL_CONFIG, useValue: config },
        { provide: CLOCK, useValue: () => Date.now() },
        { provide: KAFKA, useValue: { producer: () => producer } },
      ],
      exports: [APPROVAL_CONFIG, CLOCK, KAFKA],
    })
    class CoreModule {}

    @Module({
      imports: [
        CoreModule,
        TypeOrmModule.forRoot(approvalDatabase(config)),
        IdentityModule.forRoot(identityConfigFromSettings(config)),
        PublishingModule,
        NotificationsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ApprovalExceptionFilter }],
    })
    class ApiModule {}

    app = await NestFactory.create(ApiModule, new FastifyAdapter(), { logger: ['error'], abortOnError: false });
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    admin = await idp.sign({ sub: 'ops-admin', groups: ['airlock-admins'] });
    approver = await idp.sign({ sub: 'dba-1', groups: ['dba'] });
  });

  afterAll(async () => {
    await app?.close();
    const redis = new Redis(infraEnv().REDIS_URL, { maxRetriesPerRequest: null });
    const q = new Queue(Queues.ApprovalNotifications, { connection: redis, prefix });
    await q.obliterate({ force: true });
    await q.close();
    await redis.quit();
    await slack?.stop();
    await idp?.stop();
    await db?.drop();
  });

  async function get(path: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('answers members of the admin group only', async () => {
    expect((await get('/notifications')).status).toBe(401);
    const refused = await get('/notifications', approver);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'forbidden', message: expect.any(String) });
    expect((await get(`/approvals/${uuidv7()}/notifications`, approver)).status).toBe(403);
  });

  it('lists failed notifications, recorded or only known to the queue, and one approval’s', async () => {
    const records = app.get(NotificationDeliveryRepository);
    const failed = uuidv7();
    const delivered = uuidv7();
    const at = new Date();
    await records.record({
      approvalId: failed,
      channel: 'email',
      state: 'failed',
      attempts: 8,
      reason: 'SMTP 550',
      at,
    });
    await records.record({
      approvalId: delivered,
      channel: 'slack',
      state: 'delivered',
      attempts: 1,
      reason: null,
      at,
    });

    // A job BullMQ failed without the worker recording it.
    const lost = uuidv7();
    await app.get(NotificationQueue).enqueue(lost);
    const redis = new Redis(infraEnv().REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker(
      Queues.ApprovalNotifications,
      async () => {
        throw new UnrecoverableError('job stalled more than allowable limit');
      },
      { connection: redis, prefix },
    );
    try {
      await waitFor('the job failed', async () => {
        const [job] = await app.get(NotificationQueue).jobsOf(lost);
        return job?.state === 'failed';
      });
    } finally {
      await worker.close();
      await redis.quit();
    }

    const list = await get('/notifications', admin);
    expect(list.status).toBe(200);
    expect(list.body.notifications).toEqual(
      expect.arrayContaining([
        {
          approvalId: failed,
          channel: 'email',
          state: 'failed',
          attempts: 8,
          reason: 'SMTP 550',
          updatedAt: at.toISOString(),
          recorded: true,
        },
        expect.objectContaining({ approvalId: lost, channel: 'slack', state: 'failed', recorded: false }),
      ]),
    );
    expect(list.body.notifications).toHaveLength(2);

    const ok = await get('/notifications?state=delivered', admin);
    expect(ok.body.notifications).toEqual([expect.objectContaining({ approvalId: delivered, state: 'delivered' })]);

    const one = await get(`/approvals/${failed}/notifications`, admin);
    expect(one.status).toBe(200);
    expect(one.body.notifications).toEqual([expect.objectContaining({ approvalId: failed, channel: 'email' })]);
  });

  it('refuses bad input and unknown approvals with JSON errors', async () => {
    expect(await get('/notifications?state=pending', admin)).toMatchObject({
      status: 400,
      body: { error: 'bad_request' },
    });
    expect(await get('/approvals/not-a-uuid/notifications', admin)).toMatchObject({
      status: 400,
      body: { error: 'bad_request' },
    });
    expect(await get(`/approvals/${uuidv7()}/notifications`, admin)).toMatchObject({
      status: 404,
      body: { error: 'not_found' },
    });
  });
});
