import { Module } from '@nestjs/common';
import { metricsRegistry } from '@airlock/observability';
import { ApprovalEventsHandler } from './approval-events.handler';
import { AuditController } from './audit.controller';
import { AuditConsumer } from './audit.consumer';
import { AuditRepository } from './audit.repository';
import { RecorderMetrics } from './recorder-metrics';

@Module({
  controllers: [ApprovalEventsHandler, AuditController],
  providers: [
    AuditRepository,
    AuditConsumer,
    // On the process's registry: GET /metrics serves them with every other series.
    { provide: RecorderMetrics, useFactory: () => new RecorderMetrics(metricsRegistry) },
  ],
  exports: [AuditRepository, AuditConsumer],
})
export class AuditModule {}
