import { ConfigError } from '@airlock/runtime';
import { recorderConfig, recorderStoreConfig } from './config';

const issuers = JSON.stringify([{ issuer: 'https://idp.example', jwksUri: 'https://idp.example/jwks' }]);

/** The least a recorder needs: its store, its signing key and who may call its API. */
const minimal = {
  DATABASE_URL: 'postgres://recorder:secret@db.internal:5432/audit',
  AUDIT_SIGNING_KEY_FILE: '/run/secrets/audit-signing-key.pem',
  OIDC_ISSUERS: issuers,
  OIDC_AUDIENCE: 'airlock',
};

/** The problems a ConfigError lists, or a failure when the settings were accepted. */
function problems(env: Record<string, string | undefined>): string[] {
  try {
    recorderConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('the settings were accepted');
}

describe('recorder configuration', () => {
  it('takes the minimal settings and fills in the defaults', () => {
    const config = recorderConfig({ ...minimal });
    expect(config).toMatchObject({
      DATABASE_URL: minimal.DATABASE_URL,
      AUDIT_SIGNING_KEY_FILE: minimal.AUDIT_SIGNING_KEY_FILE,
      HTTP_PORT: 8083,
      AUDIT_START_FROM: 'earliest',
      AUDIT_CHECKPOINT_INTERVAL_MS: 10_000,
      AUDIT_MAINTENANCE_INTERVAL_MS: 3_600_000,
      RECORDER_PIPELINES: 1,
      OIDC_ISSUERS: [{ issuer: 'https://idp.example', jwksUri: 'https://idp.example/jwks' }],
      OIDC_AUDIENCE: ['airlock'],
    });
    expect(config.DATABASE_OWNER_URL).toBeUndefined();
    expect(config.AUDIT_VERIFY_KEYS_FILE).toBeUndefined();
    expect(config.AUDIT_RETENTION_DAYS).toBeUndefined();
  });

  it('reads the numbers and choices it is given', () => {
    const config = recorderConfig({
      ...minimal,
      HTTP_PORT: '9000',
      DATABASE_OWNER_URL: 'postgresql://owner:pw@db.internal/audit',
      AUDIT_RETENTION_DAYS: '90',
      AUDIT_START_FROM: 'latest',
      AUDIT_CHECKPOINT_INTERVAL_MS: '250',
      AUDIT_MAINTENANCE_INTERVAL_MS: '60000',
      AUDITOR_GROUPS: JSON.stringify({ 'https://idp.example': ['compliance'] }),
      AUDIT_VERIFY_KEYS_FILE: '/run/secrets/old-keys.pem',
      RECORDER_PIPELINES: '2',
    });
    expect(config).toMatchObject({
      HTTP_PORT: 9000,
      DATABASE_OWNER_URL: 'postgresql://owner:pw@db.internal/audit',
      AUDIT_RETENTION_DAYS: 90,
      AUDIT_START_FROM: 'latest',
      AUDIT_CHECKPOINT_INTERVAL_MS: 250,
      AUDIT_MAINTENANCE_INTERVAL_MS: 60_000,
      AUDITOR_GROUPS: { 'https://idp.example': ['compliance'] },
      AUDIT_VERIFY_KEYS_FILE: '/run/secrets/old-keys.pem',
      RECORDER_PIPELINES: 2,
    });
  });

  it.each(['0', '7', '1.5', 'two'])('refuses RECORDER_PIPELINES=%s and names the setting', (value) => {
    expect(problems({ ...minimal, RECORDER_PIPELINES: value }).some((p) => p.startsWith('RECORDER_PIPELINES:'))).toBe(
      true,
    );
  });

  it.each(['DATABASE_URL', 'AUDIT_SIGNING_KEY_FILE', 'OIDC_ISSUERS', 'OIDC_AUDIENCE'])(
    'refuses to start without %s and names it',
    (name) => {
      const found = problems({ ...minimal, [name]: undefined });
      expect(found.some((p) => p.startsWith(`${name}:`))).toBe(true);
    },
  );

  it('scopes the auditor groups to their issuer, and says so when the setting is missing, wrong or replaced', () => {
    const two = JSON.stringify([
      { issuer: 'https://idp.example', jwksUri: 'https://idp.example/jwks' },
      { issuer: 'https://partner.example', jwksUri: 'https://partner.example/jwks' },
    ]);
    expect(problems({ ...minimal, OIDC_ISSUERS: two })).toEqual([
      expect.stringMatching(/^AUDITOR_GROUPS: several issuers are trusted/),
    ]);
    expect(problems({ ...minimal, AUDITOR_GROUPS: JSON.stringify({ 'https://elsewhere': ['auditors'] }) })).toEqual([
      'AUDITOR_GROUPS: https://elsewhere is not a trusted issuer (OIDC_ISSUERS)',
    ]);
    expect(problems({ ...minimal, AUDITOR_GROUP: 'compliance' })).toEqual([
      expect.stringMatching(/^AUDITOR_GROUP: replaced by AUDITOR_GROUPS/),
    ]);
    const ok = recorderConfig({
      ...minimal,
      OIDC_ISSUERS: two,
      AUDITOR_GROUPS: JSON.stringify({ 'https://idp.example': ['compliance'] }),
    });
    expect(ok.AUDITOR_GROUPS).toEqual({ 'https://idp.example': ['compliance'] });
  });

  it('names every missing setting at once', () => {
    const found = problems({});
    for (const name of ['DATABASE_URL', 'AUDIT_SIGNING_KEY_FILE', 'OIDC_ISSUERS', 'OIDC_AUDIENCE']) {
      expect(found.some((p) => p.startsWith(`${name}:`))).toBe(true);
    }
  });

  it('refuses a database URL that is not postgres://', () => {
    expect(problems({ ...minimal, DATABASE_URL: 'mysql://recorder@db/audit' })).toContain(
      'DATABASE_URL: DATABASE_URL must be a postgres:// URL',
    );
    expect(problems({ ...minimal, DATABASE_OWNER_URL: 'db.internal/audit' })).toContain(
      'DATABASE_OWNER_URL: DATABASE_OWNER_URL must be a postgres:// URL',
    );
  });

  it('refuses an empty signing key file name with a message that says what it is for', () => {
    expect(problems({ ...minimal, AUDIT_SIGNING_KEY_FILE: '' })).toContain(
      'AUDIT_SIGNING_KEY_FILE: AUDIT_SIGNING_KEY_FILE names the checkpoint signing key file',
    );
  });

  it('refuses OIDC_ISSUERS that trusts no issuer', () => {
    const found = problems({ ...minimal, OIDC_ISSUERS: '[]' });
    expect(found.some((p) => p.startsWith('OIDC_ISSUERS:') && p.includes('trust at least one issuer'))).toBe(true);
  });

  it('refuses retention without the owner connection that drops partitions, naming both settings', () => {
    const found = problems({ ...minimal, AUDIT_RETENTION_DAYS: '30' });
    expect(found).toEqual([
      'AUDIT_RETENTION_DAYS: retention drops partitions as the table owner: set DATABASE_OWNER_URL too',
    ]);
  });

  it.each<[string, string]>([
    ['AUDIT_RETENTION_DAYS', '0'],
    ['AUDIT_RETENTION_DAYS', '1.5'],
    ['AUDIT_RETENTION_DAYS', 'forever'],
    ['AUDIT_CHECKPOINT_INTERVAL_MS', '99'],
    ['AUDIT_MAINTENANCE_INTERVAL_MS', '86400001'],
    ['AUDIT_START_FROM', 'now'],
    ['HTTP_PORT', '70000'],
  ])('refuses %s=%s', (name, value) => {
    const found = problems({ ...minimal, DATABASE_OWNER_URL: 'postgres://owner@db/audit', [name]: value });
    expect(found.some((p) => p.startsWith(`${name}:`))).toBe(true);
  });

  it('gives the command line the store settings without the API settings', () => {
    const config = recorderStoreConfig({
      DATABASE_URL: minimal.DATABASE_URL,
      AUDIT_SIGNING_KEY_FILE: minimal.AUDIT_SIGNING_KEY_FILE,
    });
    expect(config).toMatchObject({ DATABASE_URL: minimal.DATABASE_URL, HTTP_PORT: 8083 });
    expect(() => recorderStoreConfig({ AUDIT_SIGNING_KEY_FILE: 'k.pem' })).toThrow(/DATABASE_URL/);
  });
});
