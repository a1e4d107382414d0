import { kafkaServerOptions } from '@airlock/messaging';
import { kafkaConnection, runMain, startService } from '@airlock/runtime';
import { AppModule } from './app.module';
import { vaultConfig } from './config';
import { loadLocalKeyEncryptionKeys } from './keys/local-key-encryption-keys';

runMain('credential-vault', async () => {
  const config = vaultConfig();
  const keys = loadLocalKeyEncryptionKeys(config);
  await startService({
    name: 'credential-vault',
    module: AppModule.forConfig(config, keys),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    corsOrigins: config.CONSOLE_ORIGINS,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    // Initialise (migrations, then the key check) before joining Kafka: a vault whose keys do not
    // match the store stops here, without ever joining the lease consumer group.
    configure: async (app) => void (await app.init()),
    microservice: kafkaServerOptions({
      ...kafkaConnection(config),
      clientId: 'airlock-credential-vault',
      groupId: `${config.KAFKA_GROUP_PREFIX}-credential-vault`,
    }),
  });
});
