import { Module } from '@nestjs/common';
import { OpenApiController } from './openapi.controller';
import { ReplayController } from './replay.controller';
import { ReplayRepository } from './replay.repository';
import { ReplayService } from './replay.service';
import { REPLAY_CLOCK, type Clock } from './time-range';

/** Replay, search and export of the audit store for auditors. */
@Module({
  controllers: [ReplayController, OpenApiController],
  providers: [ReplayRepository, ReplayService, { provide: REPLAY_CLOCK, useValue: (() => Date.now()) satisfies Clock }],
})
export class ReplayModule {}
