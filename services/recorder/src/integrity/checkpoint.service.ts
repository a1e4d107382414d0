import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import type { CheckpointSigner } from './checkpoint-signer';
import { IntegrityRepository, type StoredCheckpoint } from './integrity.repository';
import { CHECKPOINT_SIGNER } from './keys';

/**
 * Every AUDIT_CHECKPOINT_INTERVAL_MS, signs the head of each chain that moved and stores it. The
 * checkpoint also goes to the log, so a copy lives outside the database.
 */
@Injectable()
export class CheckpointService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CheckpointService.name);
  private readonly repo: IntegrityRepository;
  private readonly lastSeq = new Map<number, bigint>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<number> | undefined;

  constructor(
    @InjectDataSource() db: DataSource,
    @Inject(CHECKPOINT_SIGNER) private readonly signer: CheckpointSigner,
    @Inject(RECORDER_CONFIG) private readonly config: RecorderConfig,
  ) {
    this.repo = new IntegrityRepository(db);
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const cp of await this.repo.latestHeadCheckpoints()) this.lastSeq.set(cp.body.chain, BigInt(cp.body.seq));
    this.timer = setInterval(() => {
      this.checkpoint().catch((err: Error) => this.logger.error({ err: err.message }, 'checkpoint failed'));
    }, this.config.AUDIT_CHECKPOINT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Signs and stores the heads that moved since the last checkpoint; returns how many. */
  checkpoint(): Promise<number> {
    this.inFlight ??= this.write().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async write(): Promise<number> {
    const written = await writeHeadCheckpoints(this.repo, this.signer, this.lastSeq);
    for (const cp of written) {
      this.logger.log(
        { checkpoint: { ...cp.body, signature: cp.signature.toString('base64') } },
        'audit chain checkpoint',
      );
    }
    return written.length;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checkpoint().catch((err: Error) => this.logger.warn({ err: err.message }, 'final checkpoint failed'));
  }
}

/**
 * Signs and stores the head of every chain that moved past `lastSeq` (updated in place; empty
 * means every chain); returns the checkpoints written.
 */
export async function writeHeadCheckpoints(
  repo: IntegrityRepository,
  signer: CheckpointSigner,
  lastSeq = new Map<number, bigint>(),
): Promise<StoredCheckpoint[]> {
  const written: StoredCheckpoint[] = [];
  for (const head of await repo.heads()) {
    if (head.seq <= (lastSeq.get(head.chain) ?? 0n)) continue;
    const signed = signer.sign({
      kind: 'head',
      chain: head.chain,
      seq: head.seq.toString(),
      hash: head.hash.toString('hex'),
      createdAt: new Date().toISOString(),
      details: {},
    });
    await repo.insertCheckpoint(signed);
    lastSeq.set(head.chain, head.seq);
    written.push(signed);
  }
  return written;
}
