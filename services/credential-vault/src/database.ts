import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { VaultStoreConfig } from './config';
import { KeyCheckEntity } from './keys/key-check.entity';
import { CreateVaultRegistry1764115200000 } from './migrations/1764115200000-create-vault-registry';
import { ConnectionEntity } from './registry/connection.entity';
import { SecretEntity } from './registry/secret.entity';

/** The vault's store, for the service and the rewrap command alike: migrations run at start, never synchronize. */
export function vaultDatabase(config: VaultStoreConfig): TypeOrmModuleOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    entities: [ConnectionEntity, SecretEntity, KeyCheckEntity],
    migrations: [CreateVaultRegistry1764115200000],
    migrationsRun: true,
    migrationsTableName: 'vault_migrations',
    synchronize: false,
    retryAttempts: 3,
    retryDelay: 1000,
  };
}
