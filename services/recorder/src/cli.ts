import 'reflect-metadata';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { ConfigError, runMain } from '@airlock/runtime';
import { recorderStoreConfig, type RecorderStoreConfig } from './config';
import { keyIdOf } from './integrity/checkpoint-signer';
import { writeHeadCheckpoints } from './integrity/checkpoint.service';
import { IntegrityRepository } from './integrity/integrity.repository';
import { loadSigner, loadVerifier } from './integrity/keys';
import { verifyStore } from './integrity/verify';
import { runRetention } from './retention/retention.runner';
import { prepareStore } from './store/store-setup';
import { ownerOptions, roleOf, writerOptions } from './store/store.options';

const USAGE = `usage: node dist/services/recorder/src/cli.js <command>
  migrate                         migrate the audit store and grant the recorder's role (DATABASE_OWNER_URL)
  verify [--chain N]              walk the hash chains and check the signed checkpoints; exit 2 when broken
  checkpoint                      sign and store the head of every chain that moved
  retention [--days N] [--now T]  drop expired day partitions (DATABASE_OWNER_URL; AUDIT_RETENTION_DAYS or --days)
  keygen <file>                   write a new Ed25519 checkpoint signing key (PKCS#8 PEM, mode 0600)
Settings come from the environment, as for the recorder (DATABASE_URL, AUDIT_SIGNING_KEY_FILE, ...).`;

async function withDb<T>(options: ReturnType<typeof writerOptions>, use: (db: DataSource) => Promise<T>): Promise<T> {
  const db = await new DataSource(options).initialize();
  try {
    return await use(db);
  } finally {
    await db.destroy();
  }
}

function ownerConfig(config: RecorderStoreConfig): RecorderStoreConfig & { DATABASE_OWNER_URL: string } {
  if (config.DATABASE_OWNER_URL === undefined) {
    throw new ConfigError(['DATABASE_OWNER_URL: this command runs as the owner of the audit tables']);
  }
  return { ...config, DATABASE_OWNER_URL: config.DATABASE_OWNER_URL };
}

const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

runMain('recorder', async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { chain: { type: 'string' }, days: { type: 'string' }, now: { type: 'string' } },
  });
  const [command, ...rest] = positionals;
  switch (command) {
    case 'keygen': {
      const file = rest[0];
      if (!file) throw new ConfigError(['keygen: name the file to write']);
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      print({ file, keyId: keyIdOf(publicKey), publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });
      return;
    }
    case 'migrate': {
      const config = ownerConfig(recorderStoreConfig());
      await withDb(ownerOptions(config), (owner) => prepareStore(owner, roleOf(config.DATABASE_URL)));
      print({ migrated: true, writer: roleOf(config.DATABASE_URL) });
      return;
    }
    case 'verify': {
      const config = recorderStoreConfig();
      const chain = values.chain === undefined ? undefined : Number(values.chain);
      if (chain !== undefined && !Number.isInteger(chain)) throw new ConfigError(['--chain: expected a number']);
      const signer = loadSigner(config);
      const report = await withDb(writerOptions(config), (db) =>
        verifyStore(new IntegrityRepository(db), loadVerifier(config, signer), { chain }),
      );
      print(report);
      if (!report.ok) process.exitCode = 2;
      return;
    }
    case 'checkpoint': {
      const config = recorderStoreConfig();
      const signer = loadSigner(config);
      const written = await withDb(writerOptions(config), async (db) =>
        writeHeadCheckpoints(new IntegrityRepository(db), signer),
      );
      print({ checkpoints: written.length });
      return;
    }
    case 'retention': {
      const config = ownerConfig(recorderStoreConfig());
      const days = values.days === undefined ? config.AUDIT_RETENTION_DAYS : Number(values.days);
      if (days === undefined || !Number.isInteger(days) || days < 1) {
        throw new ConfigError(['retention: set AUDIT_RETENTION_DAYS or --days to a whole number of days']);
      }
      const now = values.now === undefined ? new Date() : new Date(values.now);
      if (Number.isNaN(now.getTime())) throw new ConfigError(['--now: expected an ISO time']);
      const signer = loadSigner(config);
      print(await withDb(ownerOptions(config), (owner) => runRetention(owner, signer, { days, now })));
      return;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      process.exitCode = 64;
  }
});
