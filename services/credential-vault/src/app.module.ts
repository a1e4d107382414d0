import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { IdentityModule, identityConfigFromSettings } from '@airlock/identity';
import { KAFKA, createKafka, kafkaHealthCheck, nestKafkaLogSink } from '@airlock/messaging';
import { MetricsController } from '@airlock/observability';
import { HEALTH_CHECKS, HealthController, SERVICE_NAME, kafkaConnection, loggerModule } from '@airlock/runtime';
import { CLOCK, type Clock } from './clock';
import { VAULT_CONFIG, type VaultConfig, type VaultStoreConfig } from './config';
import { vaultDatabase } from './database';
import { KEY_ENCRYPTION_KEYS, type KeyEncryptionKeys } from './keys/key-encryption-keys';
import { KeysModule } from './keys/keys.module';
import { LeaseModule } from './lease/lease.module';
import { PublishingModule } from './publishing/publishing.module';
import { RegistryModule } from './registry/registry.module';
import { VaultExceptionFilter } from './vault-exception.filter';

/** What the service and the rewrap command share: configuration, keys, clock, store and Kafka. */
function coreProviders(config: VaultStoreConfig, keys: KeyEncryptionKeys, clientId: string) {
  return [
    { provide: VAULT_CONFIG, useValue: config },
    { provide: KEY_ENCRYPTION_KEYS, useValue: keys },
    { provide: CLOCK, useValue: (() => Date.now()) satisfies Clock },
    {
      provide: KAFKA,
      useFactory: (): Kafka => createKafka({ ...kafkaConnection(config), clientId }, nestKafkaLogSink()),
    },
  ];
}
const CORE_EXPORTS = [VAULT_CONFIG, KEY_ENCRYPTION_KEYS, CLOCK, KAFKA];

@Global()
@Module({})
export class AppModule {
  static forConfig(config: VaultConfig, keys: KeyEncryptionKeys): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggerModule('credential-vault', config.LOG_LEVEL),
        TypeOrmModule.forRoot(vaultDatabase(config)),
        IdentityModule.forRoot(identityConfigFromSettings(config)),
        PublishingModule,
        KeysModule,
        RegistryModule,
        LeaseModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        ...coreProviders(config, keys, 'airlock-credential-vault'),
        { provide: APP_FILTER, useClass: VaultExceptionFilter },
        { provide: SERVICE_NAME, useValue: 'credential-vault' },
        {
          provide: HEALTH_CHECKS,
          inject: [KAFKA, getDataSourceToken()],
          useFactory: (kafka: Kafka, db: DataSource) => [
            kafkaHealthCheck(kafka),
            { name: 'database', check: async () => void (await db.query('SELECT 1')) },
          ],
        },
      ],
      exports: CORE_EXPORTS,
    };
  }
}

/** The rewrap command's context: the store, the keys and the audit trail, no HTTP and no leases. */
@Global()
@Module({})
export class RewrapModule {
  static forConfig(config: VaultStoreConfig, keys: KeyEncryptionKeys): DynamicModule {
    return {
      module: RewrapModule,
      imports: [TypeOrmModule.forRoot(vaultDatabase(config)), PublishingModule, KeysModule],
      providers: coreProviders(config, keys, 'airlock-credential-vault-rewrap'),
      exports: CORE_EXPORTS,
    };
  }
}
