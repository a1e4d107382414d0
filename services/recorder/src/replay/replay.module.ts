import { Module } from '@nestjs/common';
import { OpenApiController } from './openapi.controller';
import { RecorderAudit } from './recorder-audit.service';
import { ReplayController } from './replay.controller';
import { ReplayRepository } from './replay.repository';
import { ReplayService } from './replay.service';
import { REPLAY_CLOCK, type Clock } from './time-range';

/**
 * Replay and search of the audit store for auditors, and the audit of refused calls to it
 * (`RecorderAudit`, which the exception filter uses).
 */
@Module({
  controllers: [ReplayController, OpenApiController],
  providers: [
    ReplayRepository,
    ReplayService,
    RecorderAudit,
    { provide: REPLAY_CLOCK, useValue: (() => Date.now()) satisfies Clock },
  ],
  exports: [RecorderAudit],
})
export class ReplayModule {}
