import { kafkaServerOptions } from '@airlock/messaging';
import { runMain, startService } from '@airlock/runtime';
import { AppModule } from './app.module';
import { policyConfig } from './config';

runMain('policy', async () => {
  const config = policyConfig();
  await startService({
    name: 'policy',
    module: AppModule.forConfig(config),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    microservice: kafkaServerOptions({
      brokers: config.KAFKA_BROKERS,
      clientId: 'airlock-policy',
      // Policy instances share the work: one group for all of them.
      groupId: `${config.KAFKA_GROUP_PREFIX}-policy`,
    }),
  });
});
