import { Module } from '@nestjs/common';
import { ApprovalEventsHandler } from './approval-events.handler';
import { AuditController } from './audit.controller';
import { AuditConsumer } from './audit.consumer';
import { AuditRepository } from './audit.repository';
import { RecorderMetrics } from './recorder-metrics';

@Module({
  controllers: [ApprovalEventsHandler, AuditController],
  providers: [AuditRepository, AuditConsumer, RecorderMetrics],
  exports: [AuditRepository, AuditConsumer],
})
export class AuditModule {}
