import { Module } from '@nestjs/common';
import { PublishingModule } from '../publishing/publishing.module';
import { KeyCheckService } from './key-check.service';
import { KeysRepository } from './keys.repository';
import { RewrapService } from './rewrap.service';
import { SecretCipher } from './secret-cipher';

/**
 * Key-encryption keys and envelope encryption. Its start-up check runs before the vault answers
 * anything. The keys themselves (KEY_ENCRYPTION_KEYS) come from the root module.
 */
@Module({
  imports: [PublishingModule],
  providers: [KeysRepository, KeyCheckService, SecretCipher, RewrapService],
  exports: [SecretCipher, RewrapService],
})
export class KeysModule {}
