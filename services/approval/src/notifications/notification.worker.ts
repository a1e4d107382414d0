import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import type Redis from 'ioredis';
import { Queues, type NotificationJob } from '@airlock/contracts';
import type { Clock } from '../clock';
import { notifyBackoffStrategy } from './backoff';
import type { Channel, NotificationJobName, NotificationSettings } from './channels';
import { EmailSender } from './email';
import type { DeliveryRecords } from './notification-delivery.repository';
import { NotificationProcessor, type AuditSink, type NotificationResult } from './notification.processor';
import type { NoticeSource } from './notice';
import { connectionReporter, bullRedis, closeRedis } from './redis';
import type { NotificationSender } from './sender';
import { SlackSender } from './slack';

/** Notifications one process sends at once; each mostly waits on the network. */
const CONCURRENCY = 4;

/** The senders of the configured channels. */
export function channelSenders(settings: NotificationSettings, clock: Clock): Map<Channel, NotificationSender> {
  const senders = new Map<Channel, NotificationSender>();
  if (settings.SLACK_WEBHOOK_URL) {
    senders.set('slack', new SlackSender(settings.SLACK_WEBHOOK_URL, settings.NOTIFY_TIMEOUT_MS, clock));
  }
  if (settings.SMTP_URL && settings.EMAIL_TO.length > 0) {
    senders.set(
      'email',
      new EmailSender({
        smtpUrl: settings.SMTP_URL,
        from: settings.EMAIL_FROM,
        to: settings.EMAIL_TO,
        timeoutMs: settings.NOTIFY_TIMEOUT_MS,
      }),
    );
  }
  return senders;
}

/**
 * The BullMQ worker of the notification queue in this process: started when the application
 * has booted (migrations have run), closed on shutdown after the jobs in hand are finished.
 */
export class NotificationWorkers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NotificationWorkers.name);
  private readonly senders: Map<Channel, NotificationSender>;
  private readonly processor: NotificationProcessor;
  private worker?: Worker<NotificationJob, NotificationResult, NotificationJobName>;
  private redis?: Redis;

  constructor(
    private readonly settings: NotificationSettings,
    notices: NoticeSource,
    deliveries: DeliveryRecords,
    audit: AuditSink,
    clock: Clock,
  ) {
    this.senders = channelSenders(settings, clock);
    this.processor = new NotificationProcessor(notices, deliveries, audit, this.senders, clock);
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  start(): void {
    if (this.worker) return;
    const reporter = connectionReporter(this.logger, 'notification worker');
    const redis = bullRedis(this.settings.REDIS_URL, 'worker', reporter);
    const worker: Worker<NotificationJob, NotificationResult, NotificationJobName> = new Worker(
      Queues.ApprovalNotifications,
      (job: Job<NotificationJob, NotificationResult, NotificationJobName>) => this.processor.process(job, worker),
      {
        connection: redis,
        prefix: this.settings.APPROVAL_QUEUE_PREFIX,
        concurrency: CONCURRENCY,
        // BullMQ holds back other workers (other replicas of this service) for a 429's Retry-After
        // only when the queue has a limiter: NOTIFY_MAX_PER_SECOND is that limiter.
        limiter: { max: this.settings.NOTIFY_MAX_PER_SECOND, duration: 1000 },
        // A job that stalls (its worker died mid-send) runs again once; the delivery record
        // stops a second send if the first one got through.
        maxStalledCount: 1,
        settings: { backoffStrategy: notifyBackoffStrategy(this.settings.NOTIFY_BACKOFF_MS) },
      },
    );
    worker.on('error', (err: Error) => reporter.error(err));
    worker.on('ready', () => reporter.ready());
    this.worker = worker;
    this.redis = redis;
    this.logger.log({ channels: [...this.senders.keys()] }, 'notification worker started');
  }

  /** Waits for the jobs in hand, then lets go of Redis and the channels. */
  async close(): Promise<void> {
    const { worker, redis } = this;
    this.worker = undefined;
    this.redis = undefined;
    if (worker) {
      await worker.close().catch((err: Error) => this.logger.warn({ err: err.message }, 'worker not closed cleanly'));
    }
    if (redis) await closeRedis(redis);
    await Promise.all([...this.senders.values()].map((s) => s.close()));
  }

  /** Resolves once the worker is connected; for tests. */
  async ready(): Promise<void> {
    await this.worker?.waitUntilReady();
  }
}
