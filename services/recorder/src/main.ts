import { kafkaServerOptions } from '@airlock/messaging';
import { runMain, startService } from '@airlock/runtime';
import { AppModule } from './app.module';
import { recorderConfig } from './config';

runMain('recorder', async () => {
  const config = recorderConfig();
  await startService({
    name: 'recorder',
    module: AppModule.forConfig(config),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    microservice: kafkaServerOptions({
      brokers: config.KAFKA_BROKERS,
      clientId: 'airlock-recorder',
      groupId: `${config.KAFKA_GROUP_PREFIX}-recorder-events`,
      commitOffsets: true,
    }),
  });
});
