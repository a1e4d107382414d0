import { Module } from '@nestjs/common';
import { RotationPublisher } from './rotation.publisher';
import { VaultAudit } from './vault-audit.service';
import { KafkaProducer } from '@airlock/messaging';

/** What the vault publishes on Kafka besides lease replies: audit events and rotation events. */
@Module({
  providers: [KafkaProducer, VaultAudit, RotationPublisher],
  exports: [VaultAudit, RotationPublisher],
})
export class PublishingModule {}
