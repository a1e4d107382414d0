import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { ExpiryJobSchema, JobNames, Queues, parseContract, type ExpiryJob } from '@airlock/contracts';
import { CLOCK, type Clock } from '../clock';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';
import { Transitions } from './transitions';

type ExpirySettings = Pick<ApprovalConfig, 'REDIS_URL' | 'APPROVAL_QUEUE_PREFIX' | 'APPROVAL_WORKERS'>;

const ATTEMPTS = 8;
const BACKOFF_MS = 1000;

/** One delayed job per approval, due when it expires: expiry is announced even if nobody looks. */
@Injectable()
export class ExpiryQueue implements OnApplicationShutdown {
  private readonly queue: Queue<ExpiryJob>;

  constructor(
    @Inject(APPROVAL_CONFIG) config: ExpirySettings,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    // No offline queue: while Redis is away, scheduling fails at once instead of holding a request.
    this.queue = new Queue<ExpiryJob>(Queues.ApprovalExpiry, {
      connection: { url: config.REDIS_URL, enableOfflineQueue: false },
      prefix: config.APPROVAL_QUEUE_PREFIX,
    });
    this.queue.on('error', () => undefined); // a failed add rejects; the event would only repeat it
  }

  /** The job id is the approval id, so scheduling twice queues it once. */
  async schedule(approvalId: string, expiresAt: Date): Promise<void> {
    const data = parseContract(JobNames.ExpireApproval, ExpiryJobSchema, { approvalId });
    await this.queue.add(JobNames.ExpireApproval, data, {
      jobId: approvalId,
      delay: Math.max(0, expiresAt.getTime() - this.clock()),
      attempts: ATTEMPTS,
      backoff: { type: 'exponential', delay: BACKOFF_MS },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

/** Expires approvals when their job comes due (with APPROVAL_WORKERS). */
@Injectable()
export class ExpiryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ExpiryWorker.name);
  private worker?: Worker<unknown>;

  constructor(
    private readonly transitions: Transitions,
    @Inject(APPROVAL_CONFIG) private readonly config: ExpirySettings,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.APPROVAL_WORKERS) return;
    this.worker = new Worker<unknown>(Queues.ApprovalExpiry, (job, token) => this.process(job, token), {
      connection: { url: this.config.REDIS_URL },
      prefix: this.config.APPROVAL_QUEUE_PREFIX,
      concurrency: 4,
    });
    this.worker.on('failed', (job, err) => {
      this.logger.error({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'an expiry job failed');
    });
    this.worker.on('error', (err) => this.logger.error({ err: err.message }, 'expiry worker error'));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }

  private async process(job: Job<unknown>, token?: string): Promise<void> {
    const parsed = ExpiryJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`job ${job.id} does not carry an approval id`);
    const outcome = await this.transitions.expire(parsed.data.approvalId);
    // Redis's clock said due, ours says not yet: come back when ours agrees rather than leave it pending.
    if (!outcome.expired && outcome.notBefore !== undefined) {
      await job.moveToDelayed(outcome.notBefore, token);
      throw new DelayedError();
    }
  }
}
