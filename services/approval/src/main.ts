import { serviceMain } from '@airlock/runtime';
import { AppModule } from './app.module';
import { approvalConfig } from './config';

serviceMain('approval', approvalConfig, (c) => AppModule.forConfig(c));
