import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { IntegrityModule } from '../integrity/integrity.module';
import { RetentionService } from './retention.service';

@Module({
  imports: [AuditModule, IntegrityModule],
  providers: [RetentionService],
})
export class RetentionModule {}
