import { Controller, Get, Header } from '@nestjs/common';
import { AuditConsumer } from './audit.consumer';
import { RecorderMetrics } from './recorder-metrics';

/** Ingest counters (no event content): what operators and tests watch for lag and redelivery. */
@Controller()
export class AuditController {
  constructor(
    private readonly consumer: AuditConsumer,
    private readonly metrics: RecorderMetrics,
  ) {}

  @Get('audit/stats')
  stats(): AuditConsumer['stats'] {
    return { ...this.consumer.stats };
  }

  /** Events by whole milliseconds from publication to stored, since start (a benchmark diffs two reads). */
  @Get('audit/latency')
  latency(): ReturnType<RecorderMetrics['latencyRecord']> {
    return this.metrics.latencyRecord();
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  prometheus(): string {
    return this.metrics.text();
  }
}
