import { Logger } from '@nestjs/common';
import { RateLimitError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { JobContracts, type AuditEventDraft, type NotificationJob } from '@airlock/contracts';
import { countNotification } from '../approval-metrics';
import type { Clock } from '../clock';
import { AUDIT_SOURCE, type ApprovalAudit } from '../publishing/approval-audit.service';
import { channelOfJob, type Channel } from './channels';
import type { DeliveryState } from './notification-delivery.entity';
import type { DeliveryRecords } from './notification-delivery.repository';
import type { ApprovalNotice, NoticeSource } from './notice';
import { reasonText } from './outcome';
import type { NotificationSender } from './sender';

/** What became of a job that completed. */
export type NotificationResult = 'delivered' | 'already-delivered' | 'not-pending';

/** The parts of a BullMQ job the processor reads. */
export type NotificationJobRun = Pick<
  Job<NotificationJob>,
  'id' | 'name' | 'data' | 'attemptsMade' | 'attemptsStarted' | 'opts'
>;

/** The worker's manual rate limit: no job of the queue starts before it ends. */
export interface RateLimiter {
  rateLimit(ms: number): Promise<void>;
}

export type AuditSink = Pick<ApprovalAudit, 'emit'>;

/**
 * A job may be sent back by rate limits this many times in a row without it counting as an
 * attempt; past that, a 429 counts like any other retryable failure, so a webhook that never
 * stops answering 429 still ends in a recorded failure.
 */
export const MAX_RATE_LIMITED_RUNS = 30;

/**
 * The notification was sent and recorded, but its audit event is not on Kafka yet. Retrying
 * publishes it (the record stops a second send); this is no failure to notify.
 */
export class AuditPendingError extends Error {
  override readonly name = 'AuditPendingError';
}

/** An attempt failed in a way the next one may not: retried with backoff while attempts remain. */
export class RetryableFailure extends Error {
  override readonly name = 'RetryableFailure';
}

/** The reason of an error the processor did not make itself: its class only, messages may hold data. */
function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function foreignReason(err: unknown): string {
  return `internal error (${err instanceof Error ? err.name : typeof err})`;
}

/**
 * One run of a notification job: check the delivery record, load the notice, send on the
 * job's channel, record and audit the outcome. Failures that end the notification (a
 * permanent refusal, or the last attempt) are recorded and audited here, before BullMQ marks
 * the job failed.
 */
export class NotificationProcessor {
  private readonly logger = new Logger(NotificationProcessor.name);

  constructor(
    private readonly notices: NoticeSource,
    private readonly deliveries: DeliveryRecords,
    private readonly audit: AuditSink,
    private readonly senders: ReadonlyMap<Channel, NotificationSender>,
    private readonly clock: Clock,
  ) {}

  async process(job: NotificationJobRun, limiter: RateLimiter): Promise<NotificationResult> {
    const channel = channelOfJob(job.name);
    if (!channel) throw new UnrecoverableError(`no notification job is called ${job.name}`);
    const parsed = JobContracts[job.name as keyof typeof JobContracts].safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('the job data does not match its contract');
    const { approvalId } = parsed.data;
    const attempt = job.attemptsMade + 1;
    const last = attempt >= (job.opts.attempts ?? 1);
    const ctx = { approvalId, channel, attempt };

    let notice: ApprovalNotice | null = null;
    try {
      const prior = await this.deliveries.find(approvalId, channel);
      if (prior?.state === 'delivered') {
        if (!prior.audited) {
          notice = await this.notices.notice(approvalId);
          if (notice) await this.publish(notice, channel, 'delivered', prior.attempts);
        }
        this.logger.log(ctx, 'notification already delivered; not sent again');
        countNotification(channel, 'skipped');
        return 'already-delivered';
      }

      notice = await this.notices.notice(approvalId);
      if (!notice) throw new UnrecoverableError('there is no such approval');
      if (notice.state !== 'pending') {
        this.logger.log({ ...ctx, state: notice.state }, 'approval no longer pending; nothing to notify');
        countNotification(channel, 'skipped');
        return 'not-pending';
      }

      const sender = this.senders.get(channel);
      if (!sender) throw new UnrecoverableError(`the ${channel} channel is not configured`);
      const outcome = await sender.send(notice);
      switch (outcome.kind) {
        case 'delivered':
          await this.delivered(notice, channel, attempt);
          this.logger.log(ctx, 'notification delivered');
          countNotification(channel, 'delivered');
          return 'delivered';
        case 'rate-limited':
          if (job.attemptsStarted - job.attemptsMade <= MAX_RATE_LIMITED_RUNS) {
            this.logger.warn({ ...ctx, waitMs: outcome.waitMs, reason: outcome.reason }, 'rate limited; waiting');
            await limiter.rateLimit(outcome.waitMs);
            countNotification(channel, 'rate_limited');
            throw Worker.RateLimitError();
          }
          throw new RetryableFailure(`${outcome.reason} (rate limited ${MAX_RATE_LIMITED_RUNS} times in a row)`);
        case 'retry':
          throw new RetryableFailure(outcome.reason);
        case 'permanent':
          throw new UnrecoverableError(outcome.reason);
      }
    } catch (err) {
      if (err instanceof AuditPendingError || err instanceof RateLimitError) throw err;
      const ours = err instanceof UnrecoverableError || err instanceof RetryableFailure;
      const reason = ours ? reasonText(err.message) : foreignReason(err);
      if (!ours) this.logger.error({ ...ctx, err: errorMessage(err) }, 'notification job failed unexpectedly');
      if (err instanceof UnrecoverableError || last) {
        countNotification(channel, 'failed');
        await this.givenUp(ctx, notice, reason);
      } else {
        countNotification(channel, 'retry');
        this.logger.warn({ ...ctx, reason }, 'notification attempt failed; will retry');
      }
      // BullMQ keeps the message of what is thrown in Redis: a foreign error's may hold data.
      throw ours ? err : new RetryableFailure(reason);
    }
  }

  /**
   * Records the delivery, then audits it. The message is out: nothing here may make the job
   * send it again. Without the record a retry could, so a failed write is only logged; a
   * failed audit with the record in place is retried (the record stops the send).
   */
  private async delivered(notice: ApprovalNotice, channel: Channel, attempts: number): Promise<void> {
    const ctx = { approvalId: notice.approvalId, channel, attempt: attempts };
    let recorded = false;
    try {
      recorded = await this.deliveries.record({
        approvalId: notice.approvalId,
        channel,
        state: 'delivered',
        attempts,
        reason: null,
        at: new Date(this.clock()),
      });
      if (!recorded) return; // another run recorded (and audits) the same delivery
    } catch (err) {
      this.logger.error({ ...ctx, err: errorMessage(err) }, 'delivered, but the delivery record was not written');
    }
    try {
      await this.publish(notice, channel, 'delivered', attempts, undefined, recorded);
    } catch (err) {
      if (recorded) throw err;
      this.logger.error({ ...ctx, err: errorMessage(err) }, 'delivered, but approval.notified was not published');
    }
  }

  /** The notification is given up: recorded as failed and audited, each as far as it goes. */
  private async givenUp(
    ctx: { approvalId: string; channel: Channel; attempt: number },
    notice: ApprovalNotice | null,
    reason: string,
  ): Promise<void> {
    this.logger.warn({ ...ctx, reason }, 'notification given up');
    let recorded: boolean;
    try {
      recorded = await this.deliveries.record({
        approvalId: ctx.approvalId,
        channel: ctx.channel,
        state: 'failed',
        attempts: ctx.attempt,
        reason,
        at: new Date(this.clock()),
      });
    } catch (err) {
      this.logger.error({ ...ctx, err: errorMessage(err) }, 'the failed notification was not recorded');
      recorded = true; // still worth auditing
    }
    // Without a notice there is no session or connection to put on the event: the record says it.
    if (!recorded || !notice) return;
    try {
      await this.publish(notice, ctx.channel, 'failed', ctx.attempt, reason);
    } catch (err) {
      this.logger.error({ ...ctx, err: errorMessage(err) }, 'approval.notified (failed) was not published');
    }
  }

  /** Publishes `approval.notified` and marks the record audited. */
  private async publish(
    notice: ApprovalNotice,
    channel: Channel,
    outcome: DeliveryState,
    attempts: number,
    reason?: string,
    markRecord = true,
  ): Promise<void> {
    const draft: AuditEventDraft<'approval.notified'> = {
      type: 'approval.notified',
      sessionId: notice.sessionId,
      requestId: notice.requestId,
      actor: null,
      connection: notice.connection,
      protocol: notice.protocol,
      source: AUDIT_SOURCE,
      data: { approvalId: notice.approvalId, channel, outcome, attempts, ...(reason ? { reason } : {}) },
    };
    try {
      await this.audit.emit(draft);
    } catch (err) {
      throw new AuditPendingError('approval.notified was not published', { cause: err });
    }
    if (markRecord) {
      await this.deliveries.markAudited(notice.approvalId, channel, outcome).catch((err: unknown) => {
        // At worst a later run of this job (after Redis lost its completion) publishes the event again.
        this.logger.warn({ approvalId: notice.approvalId, channel, err: errorMessage(err) }, 'audit mark not stored');
      });
    }
  }
}
