import { Inject, Injectable, Logger } from '@nestjs/common';
import { NotFoundError } from '../errors';
import type { Channel } from './channels';
import type { DeliveryState, NotificationDeliveryEntity } from './notification-delivery.entity';
import { NotificationDeliveryRepository, notificationKey } from './notification-delivery.repository';
import { NotificationQueue, type NotificationJobView } from './notification.queue';
import { NOTICE_SOURCE, type NoticeSource } from './notice';

/** A notification as the admin API shows it. */
export interface NotificationView {
  approvalId: string;
  channel: Channel;
  state: DeliveryState;
  attempts: number;
  reason: string | null;
  updatedAt: string;
  /**
   * False for a job BullMQ failed without the worker recording it (the job stalled twice, or
   * the record could not be written): only the queue knows of it, for a week.
   */
  recorded: boolean;
}

function recordView(r: NotificationDeliveryEntity): NotificationView {
  return {
    approvalId: r.approvalId,
    channel: r.channel,
    state: r.state,
    attempts: r.attempts,
    reason: r.reason,
    updatedAt: r.updatedAt.toISOString(),
    recorded: true,
  };
}

function jobView(j: NotificationJobView): NotificationView {
  return {
    approvalId: j.approvalId,
    channel: j.channel,
    state: 'failed',
    attempts: Math.max(1, j.attempts),
    reason: j.reason,
    updatedAt: j.updatedAt.toISOString(),
    recorded: false,
  };
}

const newestFirst = (a: NotificationView, b: NotificationView): number => b.updatedAt.localeCompare(a.updatedAt);

/** What the notifications admin API reads: the delivery records, and the queue's failed jobs. */
@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    private readonly deliveries: NotificationDeliveryRepository,
    private readonly queue: NotificationQueue,
    @Inject(NOTICE_SOURCE) private readonly notices: NoticeSource,
  ) {}

  /** Newest first; with failed, also the queue's failed jobs that have no record. */
  async list(state: DeliveryState, limit: number): Promise<NotificationView[]> {
    const records = (await this.deliveries.withState(state, limit)).map(recordView);
    if (state !== 'failed') return records;
    const failedJobs = await this.queueRead(() => this.queue.failedJobs(limit));
    const recorded = await this.deliveries.recorded(failedJobs);
    const unrecorded = failedJobs.filter((j) => !recorded.has(notificationKey(j.approvalId, j.channel))).map(jobView);
    return [...records, ...unrecorded].sort(newestFirst).slice(0, limit);
  }

  /** The approval's notifications: its records, and failed jobs without one. */
  async ofApproval(approvalId: string): Promise<NotificationView[]> {
    const records = await this.deliveries.ofApproval(approvalId);
    const jobs = await this.queueRead(() => this.queue.jobsOf(approvalId));
    if (records.length === 0 && jobs.length === 0 && !(await this.notices.notice(approvalId))) {
      throw new NotFoundError(`there is no approval ${approvalId}`);
    }
    const unrecorded = jobs
      .filter((j) => j.state === 'failed' && !records.some((r) => r.channel === j.channel))
      .map(jobView);
    return [...records.map(recordView), ...unrecorded];
  }

  /** The records answer without Redis; what only the queue knows is left out while it is away. */
  private async queueRead(read: () => Promise<NotificationJobView[]>): Promise<NotificationJobView[]> {
    try {
      return await read();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'notification queue not readable; answering from the records');
      return [];
    }
  }
}
