import { randomBytes } from 'node:crypto';
import { KEY_CHECK_VALUE, type WrappedKey } from './key-encryption-keys';
import { keyProblems } from './key-check.service';
import { LocalKeyEncryptionKeys } from './local-key-encryption-keys';

function keysOf(source: string, current: string, entries: Record<string, Buffer>): LocalKeyEncryptionKeys {
  return new LocalKeyEncryptionKeys(source, current, new Map(Object.entries(entries)));
}

function check(w: WrappedKey) {
  return { keyId: w.keyId, wrapped: w.wrapped, iv: w.iv, tag: w.tag };
}

describe('start-up key check', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('passes when every key id that protects secrets is configured and opens its check value', async () => {
    const stored = check(await keysOf('VAULT_KEK', 'local-1', { 'local-1': k1 }).wrap(KEY_CHECK_VALUE));
    const inUse = { keyChecks: [stored], secretsPerKeyId: new Map([['local-1', 3]]) };
    await expect(keyProblems(keysOf('VAULT_KEK', 'local-1', { 'local-1': k1 }), inUse)).resolves.toEqual([]);
  });

  it('names the setting, the key id and the secrets it protects when the key does not match', async () => {
    const stored = check(await keysOf('VAULT_KEK', 'local-1', { 'local-1': k1 }).wrap(KEY_CHECK_VALUE));
    const inUse = { keyChecks: [stored], secretsPerKeyId: new Map([['local-1', 3]]) };
    await expect(keyProblems(keysOf('VAULT_KEK', 'local-1', { 'local-1': k2 }), inUse)).resolves.toEqual([
      'VAULT_KEK does not match key id local-1 that protects 3 stored secrets',
    ]);
  });

  it('refuses a configured key whose check value does not open even when no secret uses it yet', async () => {
    const stored = check(await keysOf('VAULT_KEK', 'local-1', { 'local-1': k1 }).wrap(KEY_CHECK_VALUE));
    await expect(
      keyProblems(keysOf('VAULT_KEK', 'local-1', { 'local-1': k2 }), {
        keyChecks: [stored],
        secretsPerKeyId: new Map(),
      }),
    ).resolves.toEqual(['VAULT_KEK does not match key id local-1 that protects 0 stored secrets']);
  });

  it('names a key id that protects secrets but is not configured, and ignores retired keys', async () => {
    const old = check(await keysOf('VAULT_KEK_FILE', 'k1', { k1 }).wrap(KEY_CHECK_VALUE));
    const current = check(await keysOf('VAULT_KEK_FILE', 'k2', { k2 }).wrap(KEY_CHECK_VALUE));
    const keys = keysOf('VAULT_KEK_FILE', 'k2', { k2 });
    await expect(
      keyProblems(keys, {
        keyChecks: [old, current],
        secretsPerKeyId: new Map([
          ['k1', 1],
          ['k2', 4],
        ]),
      }),
    ).resolves.toEqual(['VAULT_KEK_FILE has no key k1, which protects 1 stored secret']);
    // After a rewrap nothing is under k1 any more: its key may go.
    await expect(
      keyProblems(keys, { keyChecks: [old, current], secretsPerKeyId: new Map([['k2', 5]]) }),
    ).resolves.toEqual([]);
  });
});
