import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditRepository } from '../audit/audit.repository';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import type { CheckpointSigner } from '../integrity/checkpoint-signer';
import { CHECKPOINT_SIGNER } from '../integrity/keys';
import { OWNER_DATA_SOURCE } from '../store/store.module';
import { runRetention, type RetentionResult } from './retention.runner';

const DAY_MS = 86_400_000;

/**
 * Every AUDIT_MAINTENANCE_INTERVAL_MS: makes today's and tomorrow's partitions ahead of the
 * traffic, and, when AUDIT_RETENTION_DAYS is set, drops the expired ones as the owner.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OWNER_DATA_SOURCE) private readonly owner: DataSource | null,
    @Inject(CHECKPOINT_SIGNER) private readonly signer: CheckpointSigner,
    @Inject(RECORDER_CONFIG) private readonly config: RecorderConfig,
    private readonly audit: AuditRepository,
  ) {}

  onApplicationBootstrap(): void {
    const tick = () => {
      this.running ??= this.maintain()
        .then(() => undefined)
        .catch((err: Error) => this.logger.error({ err: err.message }, 'audit store maintenance failed'))
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.config.AUDIT_MAINTENANCE_INTERVAL_MS);
    this.timer.unref();
  }

  async maintain(now = new Date()): Promise<RetentionResult | undefined> {
    for (const t of [now.getTime(), now.getTime() + DAY_MS]) {
      await this.db.query('SELECT audit_ensure_partition($1::date)', [new Date(t).toISOString().slice(0, 10)]);
    }
    if (this.config.AUDIT_RETENTION_DAYS === undefined || this.owner === null) return undefined;
    const result = await runRetention(this.owner, this.signer, { days: this.config.AUDIT_RETENTION_DAYS, now });
    if (result.dropped.length > 0) {
      this.audit.forgetPartitions();
      this.logger.log({ dropped: result.dropped, checkpoints: result.checkpoints }, 'expired audit partitions dropped');
    }
    if (result.held.length > 0) {
      this.logger.warn({ held: result.held }, 'expired partitions kept: dropping them would leave a hole in a chain');
    }
    return result;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
