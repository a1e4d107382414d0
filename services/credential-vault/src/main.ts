import { serviceMain } from '@airlock/runtime';
import { AppModule } from './app.module';
import { vaultConfig } from './config';

serviceMain('credential-vault', vaultConfig, (c) => AppModule.forConfig(c));
