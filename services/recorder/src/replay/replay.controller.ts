import { Controller, Get, Header, Param, Query, StreamableFile, UseGuards } from '@nestjs/common';
import { JwtAuthGuard } from '@airlock/identity';
import { AuditorGuard } from '../auth/auditor.guard';
import {
  ExportQuerySchema,
  SessionEventsQuerySchema,
  SessionIdSchema,
  SessionsQuerySchema,
  parseInput,
} from './dto/replay-query.dto';
import type { EventPage, SessionPage, SessionSummary } from '@airlock/contracts';
import { ReplayService } from './replay.service';

export const NDJSON = 'application/x-ndjson';

/** Replay and search of the audit trail, for auditors. Described by `GET /audit/openapi.json`. */
@Controller('audit')
@UseGuards(JwtAuthGuard, AuditorGuard)
export class ReplayController {
  constructor(private readonly replay: ReplayService) {}

  @Get('sessions')
  @Header('cache-control', 'no-store')
  sessions(@Query() query: unknown): Promise<SessionPage> {
    return this.replay.sessions(parseInput(SessionsQuerySchema, query));
  }

  @Get('sessions/:sessionId')
  @Header('cache-control', 'no-store')
  session(@Param('sessionId') sessionId: string): Promise<SessionSummary> {
    return this.replay.session(parseInput(SessionIdSchema, sessionId, 'sessionId'));
  }

  @Get('sessions/:sessionId/events')
  @Header('cache-control', 'no-store')
  events(@Param('sessionId') sessionId: string, @Query() query: unknown): Promise<EventPage> {
    return this.replay.events(
      parseInput(SessionIdSchema, sessionId, 'sessionId'),
      parseInput(SessionEventsQuerySchema, query),
    );
  }

  @Get('export')
  @Header('cache-control', 'no-store')
  async export(@Query() query: unknown): Promise<StreamableFile> {
    return new StreamableFile(await this.replay.export(parseInput(ExportQuerySchema, query)), { type: NDJSON });
  }
}
