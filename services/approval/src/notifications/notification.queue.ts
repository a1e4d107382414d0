import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Queue, type JobsOptions, type JobState } from 'bullmq';
import type Redis from 'ioredis';
import { JobContracts, Queues, notificationJobId, type NotificationJob } from '@airlock/contracts';
import { APPROVAL_CONFIG } from '../config';
import { notifyBackoff } from './backoff';
import {
  JOB_OF_CHANNEL,
  channelOfJob,
  configuredChannels,
  type Channel,
  type NotificationJobName,
  type NotificationSettings,
} from './channels';
import { bullRedis, closeRedis, connectionReporter } from './redis';

/** Completed jobs only guard against queueing twice for a while; the delivery record does after. */
const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 };
/** Failed jobs stay long enough to be listed and looked into (GET /notifications). */
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 50_000 };

/** A notification job as the admin API shows it. */
export interface NotificationJobView {
  approvalId: string;
  channel: Channel;
  state: JobState | 'unknown';
  /** Attempts made (waits for a rate limit are not attempts). */
  attempts: number;
  reason: string | null;
  updatedAt: Date;
}

/** Thrown when the queue cannot take a job: Redis is away, or slower than the deadline. */
export class NotificationQueueError extends Error {
  override readonly name = 'NotificationQueueError';
}

/**
 * Where approvals are queued for notification: one job per approval and configured channel,
 * with an id derived from both, so an approval queued twice is notified once.
 */
@Injectable()
export class NotificationQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(NotificationQueue.name);
  private readonly redis: Redis;
  private readonly queue: Queue<NotificationJob, unknown, NotificationJobName>;
  /** The channels jobs are queued for, from the configuration. */
  readonly channels: readonly Channel[];

  /** Tests isolate themselves with an APPROVAL_QUEUE_PREFIX of their own. */
  constructor(@Inject(APPROVAL_CONFIG) private readonly settings: NotificationSettings) {
    this.channels = configuredChannels(settings);
    const reporter = connectionReporter(this.logger, 'notification queue');
    this.redis = bullRedis(settings.REDIS_URL, 'queue', reporter);
    this.queue = new Queue<NotificationJob, unknown, NotificationJobName>(Queues.ApprovalNotifications, {
      connection: this.redis,
      prefix: settings.APPROVAL_QUEUE_PREFIX,
    });
    this.queue.on('error', (err: Error) => reporter.error(err));
  }

  /**
   * Queues the notification of an approval on every configured channel. Resolves once Redis
   * has the jobs (or had them already); rejects with a `NotificationQueueError` when it cannot
   * say so within the per-attempt deadline. Queueing again later is safe.
   */
  async enqueue(approvalId: string): Promise<void> {
    if (this.channels.length === 0) return;
    const jobs = this.channels.map((channel) => {
      const name = JOB_OF_CHANNEL[channel];
      const data = JobContracts[name].safeParse({ approvalId });
      if (!data.success) throw new NotificationQueueError('an approval id must be a UUID');
      const opts: JobsOptions = {
        jobId: notificationJobId(data.data.approvalId, channel),
        attempts: this.settings.NOTIFY_ATTEMPTS,
        backoff: notifyBackoff(this.settings.NOTIFY_BACKOFF_MS),
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      };
      return { name, data: data.data, opts };
    });
    await this.withinDeadline(
      Promise.all(jobs.map((j) => this.queue.add(j.name, j.data, j.opts))),
      `notification jobs of approval ${approvalId} not queued`,
    );
    this.logger.log({ approvalId, channels: this.channels }, 'notifications queued');
  }

  /** The jobs of one approval still in Redis, one per channel at most. */
  async jobsOf(approvalId: string): Promise<NotificationJobView[]> {
    const views = await this.withinDeadline(
      Promise.all(
        (['slack', 'email'] as const).map(async (channel) => {
          const job = await this.queue.getJob(notificationJobId(approvalId, channel));
          return job ? this.view(job, await job.getState()) : null;
        }),
      ),
      'notification jobs not read',
    );
    return views.filter((v): v is NotificationJobView => v !== null);
  }

  /** Failed jobs, newest first. */
  async failedJobs(limit: number): Promise<NotificationJobView[]> {
    const jobs = await this.withinDeadline(this.queue.getFailed(0, limit - 1), 'failed notification jobs not read');
    return jobs.map((j) => this.view(j, 'failed')).filter((v): v is NotificationJobView => v !== null);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close().catch((err: Error) => this.logger.warn({ err: err.message }, 'queue not closed cleanly'));
    await closeRedis(this.redis);
  }

  private view(
    job: {
      name: string;
      data: { approvalId?: unknown };
      attemptsMade: number;
      failedReason?: string;
      finishedOn?: number;
      processedOn?: number;
      timestamp: number;
    },
    state: JobState | 'unknown',
  ): NotificationJobView | null {
    const channel = channelOfJob(job.name);
    if (!channel || typeof job.data?.approvalId !== 'string') return null;
    return {
      approvalId: job.data.approvalId,
      channel,
      state,
      attempts: job.attemptsMade,
      reason: job.failedReason ?? null,
      updatedAt: new Date(job.finishedOn ?? job.processedOn ?? job.timestamp),
    };
  }

  private async withinDeadline<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new NotificationQueueError(`${what}: Redis did not answer within ${this.settings.NOTIFY_TIMEOUT_MS} ms`),
          ),
        this.settings.NOTIFY_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([work, deadline]);
    } catch (err) {
      if (err instanceof NotificationQueueError) throw err;
      throw new NotificationQueueError(`${what}: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
