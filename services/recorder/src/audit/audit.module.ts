import { Module } from '@nestjs/common';
import { AuditPipelines } from '../pipelines/audit-pipelines';
import { ApprovalEventsHandler } from './approval-events.handler';
import { AuditController } from './audit.controller';
import { AuditPipelineModule } from './audit-pipeline.module';

/** The main thread's audit pipeline, the others it starts on worker threads, and the ingest API. */
@Module({
  imports: [AuditPipelineModule],
  controllers: [ApprovalEventsHandler, AuditController],
  providers: [AuditPipelines],
  exports: [AuditPipelineModule, AuditPipelines],
})
export class AuditModule {}
