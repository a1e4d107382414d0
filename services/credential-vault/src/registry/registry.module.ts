import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { PublishingModule } from '../publishing/publishing.module';
import { AdminGuard } from './admin.guard';
import { VaultOpenApiController } from './openapi';
import { RegistryController } from './registry.controller';
import { RegistryRepository } from './registry.repository';
import { RegistryService } from './registry.service';

/** Connections and their secrets, and the admin API over them. */
@Module({
  imports: [KeysModule, PublishingModule],
  controllers: [VaultOpenApiController, RegistryController],
  providers: [RegistryRepository, RegistryService, AdminGuard],
  exports: [RegistryRepository],
})
export class RegistryModule {}
