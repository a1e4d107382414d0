import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { generateSigningKeyPair } from '@airlock/sealing';
import { BaseConfigSchema, ConfigError, kafkaConnection, loadConfig, signingKeyFile, trustedKeysFile } from './config';

const dir = mkdtempSync(join(tmpdir(), 'airlock-config-'));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};
const base = { HTTP_PORT: '1' };

describe('Kafka credentials in the configuration', () => {
  it('reads the password from its file and gives kafkajs SCRAM-SHA-512 settings', () => {
    const config = loadConfig(BaseConfigSchema, {
      ...base,
      KAFKA_SASL_USERNAME: 'policy',
      KAFKA_SASL_PASSWORD_FILE: file('policy.password', 's3cret-value\n'),
    });
    expect(kafkaConnection(config)).toEqual({
      brokers: ['127.0.0.1:19092'],
      sasl: { mechanism: 'scram-sha-512', username: 'policy', password: 's3cret-value' },
      ssl: undefined,
    });
  });

  it('turns on TLS with the given CA', () => {
    const config = loadConfig(BaseConfigSchema, {
      ...base,
      KAFKA_SASL_USERNAME: 'policy',
      KAFKA_SASL_PASSWORD: 'x',
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: file('ca.pem', 'PEM'),
    });
    expect(kafkaConnection(config).ssl).toEqual({ ca: ['PEM'] });
  });

  it('names every inconsistent or unreadable setting', () => {
    expect(problems(() => loadConfig(BaseConfigSchema, { ...base, KAFKA_SASL_USERNAME: 'policy' }))).toEqual([
      expect.stringMatching(/^KAFKA_SASL_PASSWORD_FILE: KAFKA_SASL_USERNAME is set but no password/),
    ]);
    expect(problems(() => loadConfig(BaseConfigSchema, { ...base, KAFKA_SASL_PASSWORD: 'x' }))).toEqual([
      expect.stringMatching(/^KAFKA_SASL_USERNAME:/),
    ]);
    expect(
      problems(() =>
        loadConfig(BaseConfigSchema, {
          ...base,
          KAFKA_SASL_USERNAME: 'p',
          KAFKA_SASL_PASSWORD: 'x',
          KAFKA_SASL_PASSWORD_FILE: file('p.password', 'y'),
        }),
      ),
    ).toEqual([expect.stringMatching(/either in a file or in KAFKA_SASL_PASSWORD, not both/)]);
    expect(
      problems(() => loadConfig(BaseConfigSchema, { ...base, KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing') })),
    ).toEqual([expect.stringMatching(/^KAFKA_SASL_PASSWORD_FILE: cannot read Kafka password file/)]);
    expect(
      problems(() => loadConfig(BaseConfigSchema, { ...base, KAFKA_TLS_CA_FILE: file('ca2.pem', 'PEM') })),
    ).toEqual([expect.stringMatching(/^KAFKA_TLS: /)]);
  });
});

describe('signing settings', () => {
  const schema = z.object({
    SIGNING_KEY_FILE: signingKeyFile('policy'),
    TRUSTED_KEYS_FILE: trustedKeysFile(['approval']),
  });
  const approval = generateSigningKeyPair();
  const trust = file(
    'trust.json',
    JSON.stringify({ keys: [{ signer: 'approval', publicKey: approval.publicKeyPem }] }),
  );

  it('loads the signing key and the trusted keys', () => {
    const config = loadConfig(schema, {
      SIGNING_KEY_FILE: file('policy.pem', generateSigningKeyPair().privateKeyPem),
      TRUSTED_KEYS_FILE: trust,
    });
    expect(config.SIGNING_KEY_FILE.signer).toBe('policy');
    expect(config.TRUSTED_KEYS_FILE.signers()).toEqual(['approval']);
  });

  it('refuses a key that is not an Ed25519 private key, and a trust file without a required signer', () => {
    expect(
      problems(() =>
        loadConfig(schema, { SIGNING_KEY_FILE: file('bad.pem', approval.publicKeyPem), TRUSTED_KEYS_FILE: trust }),
      ),
    ).toEqual([expect.stringMatching(/^SIGNING_KEY_FILE: the signing key of policy is not a PEM private key/)]);
    const other = file(
      'other.json',
      JSON.stringify({ keys: [{ signer: 'policy', publicKey: approval.publicKeyPem }] }),
    );
    expect(
      problems(() =>
        loadConfig(schema, {
          SIGNING_KEY_FILE: file('ok.pem', generateSigningKeyPair().privateKeyPem),
          TRUSTED_KEYS_FILE: other,
        }),
      ),
    ).toEqual([expect.stringMatching(/^TRUSTED_KEYS_FILE: .*trusts no key of approval/)]);
  });
});

describe('CONSOLE_ORIGINS', () => {
  const base = { HTTP_PORT: '8082' };

  it('is empty unless set, and takes a comma-separated list of origins', () => {
    expect(loadConfig(BaseConfigSchema, base).CONSOLE_ORIGINS).toEqual([]);
    expect(
      loadConfig(BaseConfigSchema, { ...base, CONSOLE_ORIGINS: 'http://127.0.0.1:8090, https://console.example.com' })
        .CONSOLE_ORIGINS,
    ).toEqual(['http://127.0.0.1:8090', 'https://console.example.com']);
  });

  it.each(['*', 'http://127.0.0.1:8090/', 'http://127.0.0.1:8090/app', 'ftp://host', 'console.example.com'])(
    'refuses %s, naming the setting',
    (origin) => {
      expect(() => loadConfig(BaseConfigSchema, { ...base, CONSOLE_ORIGINS: origin })).toThrow(/CONSOLE_ORIGINS/);
    },
  );
});
