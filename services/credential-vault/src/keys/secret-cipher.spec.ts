import { randomBytes } from 'node:crypto';
import type { LeaseSecret } from '@airlock/contracts';
import { KeyUnavailableError } from './key-encryption-keys';
import { LocalKeyEncryptionKeys } from './local-key-encryption-keys';
import { SecretCipher, SecretUnreadableError, type EncryptedSecret } from './secret-cipher';

const CANARY = 'canary-envelope-5c2e91';
const secret: LeaseSecret = { kind: 'basic', username: 'svc-billing', password: CANARY };
const record = { connection: 'billing-api', version: 3 };

function keysOf(current: string, entries: Record<string, Buffer>): LocalKeyEncryptionKeys {
  return new LocalKeyEncryptionKeys('VAULT_KEK_FILE', current, new Map(Object.entries(entries)));
}

/** Every stored column as one buffer, for scanning. */
function storedBytes(e: EncryptedSecret): Buffer {
  return Buffer.concat([Buffer.from(e.keyId), e.wrappedDek, e.dekIv, e.dekTag, e.iv, e.ciphertext, e.tag]);
}

describe('envelope encryption', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const cipher = new SecretCipher(keysOf('k1', { k1 }));

  it('round-trips a lease secret, storing only ciphertext and a wrapped data key', async () => {
    const stored = await cipher.encrypt(secret, record);
    expect(stored.keyId).toBe('k1');
    expect(stored.wrappedDek).toHaveLength(32);
    expect(stored.iv).toHaveLength(12);
    expect(stored.tag).toHaveLength(16);
    await expect(cipher.decrypt(stored, record)).resolves.toEqual(secret);
    const bytes = storedBytes(stored);
    expect(Buffer.concat([bytes, Buffer.from(CANARY)]).includes(Buffer.from(CANARY))).toBe(true);
    expect(bytes.includes(Buffer.from(CANARY))).toBe(false);
    expect(bytes.includes(k1)).toBe(false);
  });

  it('uses a fresh data key and IV for every record', async () => {
    const a = await cipher.encrypt(secret, record);
    const b = await cipher.encrypt(secret, record);
    expect(a.wrappedDek.equals(b.wrappedDek)).toBe(false);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  it('does not decrypt with a wrong key-encryption key under the same id, nor without the key id', async () => {
    const stored = await cipher.encrypt(secret, record);
    await expect(new SecretCipher(keysOf('k1', { k1: k2 })).decrypt(stored, record)).rejects.toThrow(
      SecretUnreadableError,
    );
    await expect(new SecretCipher(keysOf('k2', { k2 })).decrypt(stored, record)).rejects.toThrow(KeyUnavailableError);
  });

  it('binds the ciphertext to its connection and version', async () => {
    const stored = await cipher.encrypt(secret, record);
    await expect(cipher.decrypt(stored, { connection: 'other-api', version: 3 })).rejects.toThrow(
      /secret version 3 of connection other-api \(key k1\) does not decrypt/,
    );
    await expect(cipher.decrypt(stored, { connection: 'billing-api', version: 4 })).rejects.toThrow(
      SecretUnreadableError,
    );
  });

  it('detects a tampered ciphertext, tag or wrapped data key, without quoting any of it', async () => {
    const stored = await cipher.encrypt(secret, record);
    for (const field of ['ciphertext', 'tag', 'wrappedDek', 'iv', 'dekIv'] as const) {
      const copy = Buffer.from(stored[field]);
      copy[0] ^= 0x80;
      const err = await cipher.decrypt({ ...stored, [field]: copy }, record).catch((e: Error) => e);
      expect(err).toBeInstanceOf(SecretUnreadableError);
      expect(String((err as Error).message) + String((err as Error).cause)).not.toContain(CANARY);
    }
  });

  it('rewraps the data key under the current key, leaving the data ciphertext as it is', async () => {
    const stored = await cipher.encrypt(secret, record);
    const rotated = new SecretCipher(keysOf('k2', { k1, k2 }));
    const next = await rotated.rewrap(stored);
    expect(next.keyId).toBe('k2');
    const moved = { ...stored, keyId: next.keyId, wrappedDek: next.wrapped, dekIv: next.iv, dekTag: next.tag };
    await expect(new SecretCipher(keysOf('k2', { k2 })).decrypt(moved, record)).resolves.toEqual(secret);
    await expect(new SecretCipher(keysOf('k1', { k1 })).decrypt(moved, record)).rejects.toThrow(KeyUnavailableError);
  });

  it('refuses to store what is not a lease secret', async () => {
    await expect(cipher.encrypt({ kind: 'bearer', token: '' } as LeaseSecret, record)).rejects.toThrow();
  });
});
