import { Controller, Get } from '@nestjs/common';
import { AuditPipelines } from '../pipelines/audit-pipelines';
import type { LatencyRecord, PipelineStats } from '../pipelines/pipeline-reports';

/**
 * Ingest counters (no event content) of every audit pipeline of the process, added up: what
 * operators and tests watch for lag and redelivery. The Prometheus series are on GET /metrics
 * with every other series of the process.
 */
@Controller()
export class AuditController {
  constructor(private readonly pipelines: AuditPipelines) {}

  @Get('audit/stats')
  stats(): Promise<PipelineStats> {
    return this.pipelines.stats();
  }

  /** The counters of each pipeline (RECORDER_PIPELINES), the main thread's first. */
  @Get('audit/pipelines')
  byPipeline(): Promise<PipelineStats[]> {
    return this.pipelines.byPipeline();
  }

  /** Events by whole milliseconds from publication to stored, since start (a benchmark diffs two reads). */
  @Get('audit/latency')
  latency(): Promise<LatencyRecord> {
    return this.pipelines.latency();
  }
}
