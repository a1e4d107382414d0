import { Module } from '@nestjs/common';
import { RecorderAudit } from './recorder-audit.service';

/** The recorder's own audit events (refused calls to its API), which the exception filter publishes. */
@Module({
  providers: [RecorderAudit],
  exports: [RecorderAudit],
})
export class PublishingModule {}
