import { Module } from '@nestjs/common';
import { metricsRegistry } from '@airlock/observability';
import { AuditConsumer } from './audit.consumer';
import { AuditRepository } from './audit.repository';
import { RecorderMetrics } from './recorder-metrics';

/**
 * One audit pipeline: the consumer of `airlock.audit`, its store and its figures. The main thread
 * runs one inside the whole recorder (AuditModule); each further pipeline thread runs one alone
 * (pipelines/pipeline.worker.ts).
 */
@Module({
  providers: [
    AuditRepository,
    AuditConsumer,
    // On the thread's registry: GET /metrics serves them with every other series of the process.
    { provide: RecorderMetrics, useFactory: () => new RecorderMetrics(metricsRegistry) },
  ],
  exports: [AuditRepository, AuditConsumer, RecorderMetrics],
})
export class AuditPipelineModule {}
