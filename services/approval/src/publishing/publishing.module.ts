import { Module } from '@nestjs/common';
import { ApprovalAudit } from './approval-audit.service';
import { KafkaProducer } from '@airlock/messaging';
import { DecisionPublisher } from './decision.publisher';

/** What the approval service publishes on Kafka besides request replies: audit events and decisions. */
@Module({
  providers: [KafkaProducer, ApprovalAudit, DecisionPublisher],
  exports: [KafkaProducer, ApprovalAudit, DecisionPublisher],
})
export class PublishingModule {}
