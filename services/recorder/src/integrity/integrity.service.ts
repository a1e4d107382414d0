import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { CheckpointVerifier } from './checkpoint-signer';
import { IntegrityRepository } from './integrity.repository';
import { CHECKPOINT_VERIFIER } from './keys';
import { verifyStore, type VerifyReport } from './verify';

@Injectable()
export class IntegrityService {
  private readonly repo: IntegrityRepository;

  constructor(
    @InjectDataSource() db: DataSource,
    @Inject(CHECKPOINT_VERIFIER) private readonly verifier: CheckpointVerifier,
  ) {
    this.repo = new IntegrityRepository(db);
  }

  verify(chain?: number): Promise<VerifyReport> {
    return verifyStore(this.repo, this.verifier, { chain });
  }
}
