import { Module } from '@nestjs/common';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import type { CheckpointSigner } from './checkpoint-signer';
import { CheckpointService } from './checkpoint.service';
import { IntegrityController } from './integrity.controller';
import { IntegrityService } from './integrity.service';
import { CHECKPOINT_SIGNER, CHECKPOINT_VERIFIER, loadSigner, loadVerifier } from './keys';

@Module({
  controllers: [IntegrityController],
  providers: [
    { provide: CHECKPOINT_SIGNER, inject: [RECORDER_CONFIG], useFactory: loadSigner },
    {
      provide: CHECKPOINT_VERIFIER,
      inject: [RECORDER_CONFIG, CHECKPOINT_SIGNER],
      useFactory: (c: RecorderConfig, s: CheckpointSigner) => loadVerifier(c, s),
    },
    CheckpointService,
    IntegrityService,
  ],
  exports: [CHECKPOINT_SIGNER, CHECKPOINT_VERIFIER, CheckpointService],
})
export class IntegrityModule {}
