import { generateKeyPairSync } from 'node:crypto';
import { SealedSecretSchema } from '@airlock/contracts';
import {
  SEALING_ALGORITHM,
  SealingError,
  generateSealingKeyPair,
  seal,
  sealingPublicKeyOf,
  unseal,
  type SealedSecret,
} from './index';

const AAD = '0193f4a2-0000-7000-8000-000000000001:billing-api';

/** Flips one bit in the middle of a base64 field, keeping it valid base64 of the same length. */
function flipBit(b64: string): string {
  const bytes = Buffer.from(b64, 'base64');
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  return bytes.toString('base64');
}

describe('sealing', () => {
  const recipient = generateSealingKeyPair();
  const secret = Buffer.from(JSON.stringify({ kind: 'bearer', token: 'canary-sealing-3f9d1c' }));

  it('makes raw 32-byte X25519 public keys, derivable from the private key', () => {
    expect(Buffer.from(recipient.publicKey, 'base64')).toHaveLength(32);
    expect(recipient.privateKey.asymmetricKeyType).toBe('x25519');
    expect(sealingPublicKeyOf(recipient.privateKey)).toBe(recipient.publicKey);
  });

  it('round-trips, matching the contract, with a fresh ephemeral key and IV each time', () => {
    const a = seal(recipient.publicKey, secret, AAD);
    const b = seal(recipient.publicKey, secret, AAD);
    expect(SealedSecretSchema.parse(a)).toEqual(a);
    expect(a.alg).toBe(SEALING_ALGORITHM);
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(a.tag, 'base64')).toHaveLength(16);
    expect(a.ephemeralPublicKey).not.toBe(b.ephemeralPublicKey);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(unseal(recipient.privateKey, a, AAD)).toEqual(secret);
    expect(unseal(recipient.privateKey, b, AAD)).toEqual(secret);
  });

  it('round-trips an empty plaintext', () => {
    expect(unseal(recipient.privateKey, seal(recipient.publicKey, Buffer.alloc(0), AAD), AAD)).toEqual(Buffer.alloc(0));
  });

  it('cannot be opened by another recipient', () => {
    const other = generateSealingKeyPair();
    const sealed = seal(recipient.publicKey, secret, AAD);
    expect(() => unseal(other.privateKey, sealed, AAD)).toThrow(SealingError);
    expect(() => unseal(other.privateKey, sealed, AAD)).toThrow(/could not be opened/);
  });

  it.each(['ephemeralPublicKey', 'iv', 'ciphertext', 'tag'] as const)('detects a tampered %s', (field) => {
    const sealed = seal(recipient.publicKey, secret, AAD);
    const tampered: SealedSecret = { ...sealed, [field]: flipBit(sealed[field]) };
    expect(tampered[field]).not.toBe(sealed[field]);
    expect(() => unseal(recipient.privateKey, tampered, AAD)).toThrow(SealingError);
  });

  it('refuses a changed algorithm, a truncated field and a field that is not base64', () => {
    const sealed = seal(recipient.publicKey, secret, AAD);
    expect(() => unseal(recipient.privateKey, { ...sealed, alg: 'none' } as unknown as SealedSecret, AAD)).toThrow(
      /unsupported algorithm/,
    );
    expect(() => unseal(recipient.privateKey, { ...sealed, iv: sealed.iv.slice(0, 8) }, AAD)).toThrow(
      /iv must be 12 bytes/,
    );
    expect(() => unseal(recipient.privateKey, { ...sealed, tag: '!!!!' }, AAD)).toThrow(/tag is not valid base64/);
    expect(() => unseal(recipient.privateKey, { ...sealed, ciphertext: `${sealed.ciphertext}*` }, AAD)).toThrow(
      /ciphertext is not valid base64/,
    );
  });

  it('is bound to its associated data', () => {
    const sealed = seal(recipient.publicKey, secret, AAD);
    expect(() => unseal(recipient.privateKey, sealed, `${AAD}x`)).toThrow(/could not be opened/);
    expect(() => unseal(recipient.privateKey, sealed, '0193f4a2-0000-7000-8000-000000000002:billing-api')).toThrow(
      SealingError,
    );
  });

  it('never carries the plaintext in any field', () => {
    const canary = 'canary-plaintext-7a1e5b';
    const plaintext = Buffer.from(canary.repeat(8));
    const sealed = seal(recipient.publicKey, plaintext, AAD);
    const text = JSON.stringify(sealed);
    // The scanner must find the canary where it is on purpose before its silence means anything.
    expect(`${text}${canary}`).toContain(canary);
    expect(text).not.toContain(canary);
    expect(text).not.toContain(Buffer.from(canary).toString('base64').slice(0, 16));
    expect(Buffer.from(sealed.ciphertext, 'base64').includes(Buffer.from(canary))).toBe(false);
  });

  it('refuses bad recipient keys and non-X25519 private keys', () => {
    expect(() => seal('not base64!', secret, AAD)).toThrow(/recipient public key is not valid base64/);
    expect(() => seal(Buffer.alloc(31, 1).toString('base64'), secret, AAD)).toThrow(/must be 32 bytes/);
    // The all-zero point has low order: the shared secret would be known to everyone.
    expect(() => seal(Buffer.alloc(32).toString('base64'), secret, AAD)).toThrow(/key agreement failed/);
    const ed = generateKeyPairSync('ed25519').privateKey;
    expect(() => unseal(ed, seal(recipient.publicKey, secret, AAD), AAD)).toThrow(/X25519 private key is required/);
  });
});
