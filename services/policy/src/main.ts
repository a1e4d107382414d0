import { serviceMain } from '@airlock/runtime';
import { AppModule } from './app.module';
import { policyConfig } from './config';

// Policy instances share the work: one consumer group for all of them.
serviceMain('policy', policyConfig, (c) => AppModule.forConfig(c));
