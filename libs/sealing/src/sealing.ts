import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import type { z } from 'zod';
import type { SealedSecretSchema, VaultLeaseReply } from '@airlock/contracts';

/** A lease secret sealed to one recipient, as it travels in `VaultLeaseReply.sealed`. */
export type SealedSecret = z.infer<typeof SealedSecretSchema>;

export const SEALING_ALGORITHM = 'X25519-HKDF-SHA256-A256GCM' as const;
/** HKDF `info`: a key derived for this purpose is useless for any other. */
export const SEALING_INFO = 'airlock-lease-v1';

const PUBLIC_KEY_BYTES = 32;
const AES_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALL_ZERO = Buffer.alloc(32);

/**
 * Sealing or unsealing failed. The message says which input is at fault, never its content;
 * a failed authentication does not tell which of key, data or associated data was wrong.
 */
export class SealingError extends Error {
  override readonly name = 'SealingError';
}

export interface SealingKeyPair {
  /** Raw 32-byte X25519 public key, base64: what a lease request carries. */
  publicKey: string;
  /** Stays in the process that generated it. */
  privateKey: KeyObject;
}

export function generateSealingKeyPair(): SealingKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublicKey(publicKey).toString('base64'), privateKey };
}

/** The base64 raw public key that belongs to an X25519 private key. */
export function sealingPublicKeyOf(privateKey: KeyObject): string {
  requirePrivateKey(privateKey);
  return rawPublicKey(createPublicKey(privateKey)).toString('base64');
}

/**
 * Encrypts `plaintext` so that only the holder of the private key behind `recipientPublicKey`
 * can read it (ECIES): a fresh ephemeral X25519 key pair per call, HKDF-SHA256 over the shared
 * secret (salt = ephemeral public ‖ recipient public, info = `SEALING_INFO`) gives an AES-256-GCM
 * key, and `aad` is authenticated with the ciphertext so a sealed value cannot be replayed in
 * another context.
 */
export function seal(recipientPublicKey: string, plaintext: Buffer, aad: string): SealedSecret {
  const recipientRaw = decodeBase64('recipient public key', recipientPublicKey, PUBLIC_KEY_BYTES);
  const recipient = importPublicKey('recipient public key', recipientRaw);
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralRaw = rawPublicKey(ephemeral.publicKey);
  const key = deriveKey(ephemeral.privateKey, recipient, ephemeralRaw, recipientRaw);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      alg: SEALING_ALGORITHM,
      ephemeralPublicKey: ephemeralRaw.toString('base64'),
      iv: iv.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  } finally {
    key.fill(0);
  }
}

/** Opens a sealed value with the recipient's private key and the same `aad`; throws `SealingError` otherwise. */
export function unseal(privateKey: KeyObject, sealed: SealedSecret, aad: string): Buffer {
  requirePrivateKey(privateKey);
  if (sealed === null || typeof sealed !== 'object') throw new SealingError('sealed secret is missing');
  if (sealed.alg !== SEALING_ALGORITHM) {
    throw new SealingError(`sealed secret uses an unsupported algorithm (expected ${SEALING_ALGORITHM})`);
  }
  const ephemeralRaw = decodeBase64('ephemeralPublicKey', sealed.ephemeralPublicKey, PUBLIC_KEY_BYTES);
  const iv = decodeBase64('iv', sealed.iv, IV_BYTES);
  const tag = decodeBase64('tag', sealed.tag, TAG_BYTES);
  const ciphertext = decodeBase64('ciphertext', sealed.ciphertext);
  const recipientRaw = rawPublicKey(createPublicKey(privateKey));
  const key = deriveKey(privateKey, importPublicKey('ephemeralPublicKey', ephemeralRaw), ephemeralRaw, recipientRaw);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new SealingError(
      'sealed secret could not be opened: wrong recipient key, wrong associated data, or tampered data',
    );
  } finally {
    key.fill(0);
  }
}

function deriveKey(privateKey: KeyObject, publicKey: KeyObject, ephemeralRaw: Buffer, recipientRaw: Buffer): Buffer {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    throw new SealingError('X25519 key agreement failed: the public key is not usable', { cause });
  }
  try {
    // A low-order public key yields an all-zero secret that any attacker can compute too.
    if (shared.length !== ALL_ZERO.length || timingSafeEqual(shared, ALL_ZERO)) {
      throw new SealingError('X25519 key agreement failed: the public key is not usable');
    }
    const salt = Buffer.concat([ephemeralRaw, recipientRaw]);
    return Buffer.from(hkdfSync('sha256', shared, salt, SEALING_INFO, AES_KEY_BYTES));
  } finally {
    shared.fill(0);
  }
}

function requirePrivateKey(key: KeyObject): void {
  if (key?.type !== 'private' || key.asymmetricKeyType !== 'x25519') {
    throw new SealingError('an X25519 private key is required');
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new SealingError('not an X25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}

function importPublicKey(what: string, raw: Buffer): KeyObject {
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch (cause) {
    throw new SealingError(`${what} is not an X25519 public key`, { cause });
  }
}

/** Strict base64: Buffer.from would silently skip characters that are not base64. */
function decodeBase64(what: string, value: unknown, length?: number): Buffer {
  if (typeof value !== 'string') throw new SealingError(`${what} must be a base64 string`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw new SealingError(`${what} is not valid base64`);
  if (length !== undefined && bytes.length !== length) {
    throw new SealingError(`${what} must be ${length} bytes, not ${bytes.length}`);
  }
  return bytes;
}

/** Every field of a lease reply the ingress acts on, apart from the sealed secret itself. */
export type LeaseBinding = Pick<
  VaultLeaseReply,
  | 'requestId'
  | 'leaseId'
  | 'connection'
  | 'protocol'
  | 'upstream'
  | 'credentialKind'
  | 'agentCredentialHeaders'
  | 'expiresAt'
  | 'secretVersion'
>;

/**
 * The associated data a lease is sealed with: the whole reply in a fixed order, so that a
 * reply altered on its way (another upstream, a later expiry, another request's lease) no
 * longer opens, and the credential can never be sent anywhere the vault did not name.
 */
export function leaseAssociatedData(b: LeaseBinding): string {
  return JSON.stringify([
    'airlock-lease-v1',
    b.requestId,
    b.leaseId,
    b.connection,
    b.protocol,
    b.upstream,
    b.credentialKind,
    b.agentCredentialHeaders,
    b.expiresAt,
    b.secretVersion,
  ]);
}
