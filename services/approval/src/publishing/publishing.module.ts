import { Module } from '@nestjs/common';
import { ApprovalAudit } from './approval-audit.service';
import { ApprovalProducer } from './approval-producer';
import { DecisionPublisher } from './decision.publisher';

/** What the approval service publishes on Kafka besides request replies: audit events and decisions. */
@Module({
  providers: [ApprovalProducer, ApprovalAudit, DecisionPublisher],
  exports: [ApprovalProducer, ApprovalAudit, DecisionPublisher],
})
export class PublishingModule {}
