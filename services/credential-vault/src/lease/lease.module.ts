import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { PublishingModule } from '../publishing/publishing.module';
import { RegistryModule } from '../registry/registry.module';
import { LeaseHandler } from './lease.handler';
import { LeaseService } from './lease.service';

/** Leases over Kafka (`airlock.vault.lease`). */
@Module({
  imports: [RegistryModule, KeysModule, PublishingModule],
  controllers: [LeaseHandler],
  providers: [LeaseService],
})
export class LeaseModule {}
