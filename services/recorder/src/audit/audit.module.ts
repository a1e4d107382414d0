import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApprovalEventsHandler } from './approval-events.handler';
import { AuditController } from './audit.controller';
import { AuditConsumer } from './audit.consumer';
import { AuditEventEntity } from './audit-event.entity';
import { AuditRepository } from './audit.repository';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity])],
  controllers: [ApprovalEventsHandler, AuditController],
  providers: [AuditRepository, AuditConsumer],
  exports: [AuditRepository, AuditConsumer],
})
export class AuditModule {}
