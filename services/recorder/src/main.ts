import { serviceMain } from '@airlock/runtime';
import { AppModule } from './app.module';
import { recorderConfig } from './config';

// Events (approval decisions) must survive a restart: offsets are committed.
serviceMain('recorder', recorderConfig, (c) => AppModule.forConfig(c), { groupSuffix: '-events', commitOffsets: true });
