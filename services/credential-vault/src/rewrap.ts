import 'reflect-metadata';
import { hostname, userInfo } from 'node:os';
import { NestFactory } from '@nestjs/core';
import { runMain } from '@airlock/runtime';
import { RewrapModule } from './app.module';
import { vaultStoreConfig } from './config';
import { loadLocalKeyEncryptionKeys } from './keys/local-key-encryption-keys';
import { RewrapService, describeRewrap } from './keys/rewrap.service';

/**
 * KEK rotation: `node dist/services/credential-vault/src/rewrap.js`, with the vault's settings
 * and a key set whose current key is the new one and which still holds the old ones. Prints one
 * summary line. Afterwards the old keys can be removed from every vault's configuration.
 */
runMain('credential-vault rewrap', async () => {
  const config = vaultStoreConfig();
  const keys = loadLocalKeyEncryptionKeys(config);
  // A command, not a service: warnings and errors only, so its output is the summary line.
  const app = await NestFactory.createApplicationContext(RewrapModule.forConfig(config, keys), {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  try {
    // The command is run by an operator who holds the keys; no OIDC identity is involved.
    const operator = { issuer: 'local', subject: `${userInfo().username}@${hostname()}`, groups: [] };
    const summary = await app.get(RewrapService).rewrapAll(operator);
    process.stdout.write(`${describeRewrap(summary)}\n`);
  } finally {
    await app.close();
  }
});
