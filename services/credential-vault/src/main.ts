import { kafkaServerOptions } from '@airlock/messaging';
import { runMain, startService } from '@airlock/runtime';
import { AppModule } from './app.module';
import { vaultConfig } from './config';

runMain('credential-vault', async () => {
  const config = vaultConfig();
  await startService({
    name: 'credential-vault',
    module: AppModule.forConfig(config),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    microservice: kafkaServerOptions({
      brokers: config.KAFKA_BROKERS,
      clientId: 'airlock-credential-vault',
      groupId: `${config.KAFKA_GROUP_PREFIX}-credential-vault`,
    }),
  });
});
