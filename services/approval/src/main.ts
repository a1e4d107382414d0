import { kafkaServerOptions } from '@airlock/messaging';
import { runMain, startService } from '@airlock/runtime';
import { AppModule } from './app.module';
import { approvalConfig } from './config';

runMain('approval', async () => {
  const config = approvalConfig();
  await startService({
    name: 'approval',
    module: AppModule.forConfig(config),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    microservice: kafkaServerOptions({
      brokers: config.KAFKA_BROKERS,
      clientId: 'airlock-approval',
      groupId: `${config.KAFKA_GROUP_PREFIX}-approval`,
    }),
  });
});
