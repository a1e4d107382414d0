import { Controller, Get } from '@nestjs/common';
import { AuditConsumer } from './audit.consumer';
import { AuditRepository } from './audit.repository';
import { RecorderMetrics } from './recorder-metrics';

/**
 * Ingest counters (no event content): what operators and tests watch for lag and redelivery. The
 * Prometheus series are on GET /metrics with every other series of the process.
 */
@Controller()
export class AuditController {
  constructor(
    private readonly consumer: AuditConsumer,
    private readonly metrics: RecorderMetrics,
    private readonly repository: AuditRepository,
  ) {}

  @Get('audit/stats')
  stats(): AuditConsumer['stats'] & AuditRepository['linkStats'] {
    return { ...this.consumer.stats, ...this.repository.linkStats };
  }

  /** Events by whole milliseconds from publication to stored, since start (a benchmark diffs two reads). */
  @Get('audit/latency')
  latency(): ReturnType<RecorderMetrics['latencyRecord']> {
    return this.metrics.latencyRecord();
  }
}
