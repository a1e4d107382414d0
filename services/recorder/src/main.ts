import { serviceMain } from '@airlock/runtime';
import { AppModule } from './app.module';
import { recorderConfig } from './config';
import { stopIdleRequestQueueTimers } from './kafka-request-queue';

if (!stopIdleRequestQueueTimers()) {
  process.emitWarning('kafkajs RequestQueue has changed shape: its idle timers are left as they are');
}

// Events (approval decisions) must survive a restart: offsets are committed.
serviceMain('recorder', recorderConfig, (c) => AppModule.forConfig(c), { groupSuffix: '-events', commitOffsets: true });
