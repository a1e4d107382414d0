import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '@airlock/runtime';
import { generateSigningKeyPair } from '@airlock/sealing';
import { vaultConfig } from '../config';
import { KeyUnavailableError, UnwrapFailedError } from './key-encryption-keys';
import { LocalKeyEncryptionKeys, loadLocalKeyEncryptionKeys } from './local-key-encryption-keys';

const key = (): string => randomBytes(32).toString('base64');

/** The ConfigError's problems, or a failure if it did not throw one. */
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('key-encryption key settings', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'airlock-kek-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A vault signing key and a trusted-keys file with one ingress key, as files. */
  function signing(ingressPublicKeyPem = generateSigningKeyPair().publicKeyPem): Record<string, string> {
    const keyFile = join(dir, `vault-${randomBytes(4).toString('hex')}.pem`);
    writeFileSync(keyFile, generateSigningKeyPair().privateKeyPem);
    const trustFile = join(dir, `trust-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(trustFile, JSON.stringify({ keys: [{ signer: 'ingress-proxy', publicKey: ingressPublicKeyPem }] }));
    return { SIGNING_KEY_FILE: keyFile, TRUSTED_KEYS_FILE: trustFile };
  }

  function keyFile(content: unknown, mode = 0o600): string {
    const path = join(dir, `kek-${randomBytes(3).toString('hex')}.json`);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    chmodSync(path, mode);
    return path;
  }

  it('stops with a message naming the settings when no key is configured', () => {
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({}))).toEqual([
      expect.stringMatching(/^VAULT_KEK_FILE or VAULT_KEK: required/),
    ]);
  });

  it('takes VAULT_KEK with VAULT_KEK_ID, local-1 by default', () => {
    expect(loadLocalKeyEncryptionKeys({ VAULT_KEK: key() }).currentKeyId).toBe('local-1');
    const keys = loadLocalKeyEncryptionKeys({ VAULT_KEK: key(), VAULT_KEK_ID: 'prod-7' });
    expect(keys).toMatchObject({ currentKeyId: 'prod-7', keyIds: ['prod-7'], source: 'VAULT_KEK' });
  });

  it('refuses a VAULT_KEK that is not base64 of 32 bytes, without repeating it', () => {
    const short = randomBytes(16).toString('base64');
    const [problem] = problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK: short }));
    expect(problem).toMatch(/^VAULT_KEK: must be base64 of exactly 32 bytes/);
    expect(problem).not.toContain(short);
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK: `${key()}%` }))[0]).toMatch(/^VAULT_KEK:/);
  });

  it('refuses both settings at once, and VAULT_KEK_ID with a key file', () => {
    const file = keyFile({ current: 'a', keys: { a: key() } });
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: file, VAULT_KEK: key() }))[0]).toMatch(
      /VAULT_KEK_FILE, VAULT_KEK: set one of them, not both/,
    );
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: file, VAULT_KEK_ID: 'x' }))[0]).toMatch(
      /^VAULT_KEK_ID: only used with VAULT_KEK/,
    );
  });

  it('reads a key file with several keys and its current one', () => {
    const file = keyFile({ current: 'kek-2', keys: { 'kek-1': key(), 'kek-2': key() } }, 0o640);
    const keys = loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: file });
    expect(keys).toMatchObject({ source: 'VAULT_KEK_FILE', currentKeyId: 'kek-2', keyIds: ['kek-1', 'kek-2'] });
  });

  it('refuses a key file every user may read or write', () => {
    const readable = keyFile({ current: 'a', keys: { a: key() } }, 0o644);
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: readable }))[0]).toMatch(
      /^VAULT_KEK_FILE: .* is readable or writable by every user \(mode 0644\)/,
    );
    const writable = keyFile({ current: 'a', keys: { a: key() } }, 0o602);
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: writable }))[0]).toMatch(/mode 0602/);
  });

  it('names what is wrong in a key file', () => {
    const missing = join(dir, 'absent.json');
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: missing }))[0]).toMatch(
      /^VAULT_KEK_FILE: cannot read .*absent.json \(ENOENT\)/,
    );
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: keyFile('{not json') }))[0]).toMatch(
      /is not valid JSON/,
    );
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: keyFile([]) }))[0]).toMatch(/expected/);
    expect(
      problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: keyFile({ current: 'b', keys: { a: key() } }) })),
    ).toEqual(['VAULT_KEK_FILE: "current" names key b, which is not in "keys"']);
    const bad = keyFile({ keys: { 'bad id!': key(), short: 'AAAA', ok: key() } });
    expect(problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: bad }))).toEqual([
      expect.stringMatching(/key id "bad id!" is not valid/),
      expect.stringMatching(/^VAULT_KEK_FILE keys.short: must be base64 of exactly 32 bytes/),
      expect.stringMatching(/"current" must name the key id/),
    ]);
    expect(
      problemsOf(() => loadLocalKeyEncryptionKeys({ VAULT_KEK_FILE: keyFile({ current: 'a', keys: {} }) })),
    ).toEqual([expect.stringMatching(/"keys" must map at least one key id/)]);
  });

  it('names missing and malformed settings of the whole vault configuration', () => {
    const problems = problemsOf(() =>
      vaultConfig({ VAULT_KEK: key(), OIDC_ISSUERS: '[]', VAULT_LEASE_TTL_SECONDS: '0' }),
    );
    expect(problems.join('\n')).toMatch(/^DATABASE_URL:/m);
    expect(problems.join('\n')).toMatch(/^OIDC_ISSUERS: .*trust at least one issuer/m);
    expect(problems.join('\n')).toMatch(/^OIDC_AUDIENCE:/m);
    expect(problems.join('\n')).toMatch(/^VAULT_LEASE_TTL_SECONDS:/m);
    expect(problems.join('\n')).toMatch(/^SIGNING_KEY_FILE:/m);
    expect(problems.join('\n')).toMatch(/^TRUSTED_KEYS_FILE:/m);
    const ingress = generateSigningKeyPair();
    const untrusting = join(dir, 'trust-none.json');
    writeFileSync(untrusting, JSON.stringify({ keys: [] }));
    expect(problemsOf(() => vaultConfig({ ...signing(), TRUSTED_KEYS_FILE: untrusting })).join('\n')).toMatch(
      /^TRUSTED_KEYS_FILE: .*trusts no key of ingress-proxy/m,
    );
    const ok = vaultConfig({
      ...signing(ingress.publicKeyPem),
      DATABASE_URL: 'postgres://u:p@db:5432/vault',
      VAULT_KEK: key(),
      OIDC_ISSUERS: JSON.stringify([{ issuer: 'https://idp.example', jwksUri: 'https://idp.example/jwks' }]),
      OIDC_AUDIENCE: 'airlock',
    });
    expect(ok).toMatchObject({ HTTP_PORT: 8084, VAULT_LEASE_TTL_SECONDS: 300 });
    expect(ok.VAULT_ADMIN_GROUPS).toBeUndefined();
  });
});

describe('LocalKeyEncryptionKeys', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  const keys = new LocalKeyEncryptionKeys('VAULT_KEK_FILE', 'a', new Map([['a', a]]));

  it('wraps with the current key and unwraps again', async () => {
    const dek = randomBytes(32);
    const wrapped = await keys.wrap(dek);
    expect(wrapped.keyId).toBe('a');
    expect(wrapped.wrapped.equals(dek)).toBe(false);
    await expect(keys.unwrap('a', wrapped.wrapped, wrapped.iv, wrapped.tag)).resolves.toEqual(dek);
  });

  it('refuses an unknown key id, another key under the same id, and a relabelled key id', async () => {
    const wrapped = await keys.wrap(randomBytes(32));
    await expect(keys.unwrap('z', wrapped.wrapped, wrapped.iv, wrapped.tag)).rejects.toThrow(KeyUnavailableError);
    const impostor = new LocalKeyEncryptionKeys('VAULT_KEK', 'a', new Map([['a', b]]));
    await expect(impostor.unwrap('a', wrapped.wrapped, wrapped.iv, wrapped.tag)).rejects.toThrow(UnwrapFailedError);
    // The same key material under another id: the id is authenticated too.
    const relabelled = new LocalKeyEncryptionKeys('VAULT_KEK', 'b', new Map([['b', a]]));
    await expect(relabelled.unwrap('b', wrapped.wrapped, wrapped.iv, wrapped.tag)).rejects.toThrow(UnwrapFailedError);
  });

  it('never shows its key material when logged or serialised', () => {
    const shown = `${JSON.stringify(keys)} ${inspect(keys)} ${inspect({ keys }, { depth: 5 })}`;
    expect(`${shown} ${a.toString('base64')}`).toContain(a.toString('base64'));
    expect(shown).not.toContain(a.toString('base64'));
    expect(shown).not.toContain(a.toString('hex'));
    expect(shown).toContain('current a');
  });
});
