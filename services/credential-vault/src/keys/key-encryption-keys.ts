import { createHash } from 'node:crypto';

/** A data key encrypted under a key-encryption key, with what it takes to decrypt it again. */
export interface WrappedKey {
  keyId: string;
  wrapped: Buffer;
  iv: Buffer;
  tag: Buffer;
}

/**
 * The key-encryption keys (KEKs) that protect the data keys of stored secrets. They never live
 * in the database: each record names the key id that wrapped its data key. Asynchronous so a
 * KMS, whose calls go over the network, can implement it in place of the local keys.
 */
export interface KeyEncryptionKeys {
  /** New data keys are wrapped with this key. */
  readonly currentKeyId: string;
  /** Every key id this instance can unwrap with. */
  readonly keyIds: readonly string[];
  /** The setting the keys come from, for messages that tell an operator what to fix. */
  readonly source: string;
  wrap(dek: Buffer): Promise<WrappedKey>;
  /** Throws `KeyUnavailableError` or `UnwrapFailedError`; never returns a wrong key. */
  unwrap(keyId: string, wrapped: Buffer, iv: Buffer, tag: Buffer): Promise<Buffer>;
}

export const KEY_ENCRYPTION_KEYS = Symbol('KEY_ENCRYPTION_KEYS');

/** The key id is not among the keys this instance holds. */
export class KeyUnavailableError extends Error {
  override readonly name = 'KeyUnavailableError';
  constructor(readonly keyId: string) {
    super(`key-encryption key ${keyId} is not configured`);
  }
}

/** The key id is known but its key does not decrypt the value (another key under the same id, or tampering). */
export class UnwrapFailedError extends Error {
  override readonly name = 'UnwrapFailedError';
  constructor(readonly keyId: string) {
    super(`key-encryption key ${keyId} does not decrypt the wrapped key`);
  }
}

/**
 * The known value each key id wraps into `vault_key_check` when it is first used: unwrapping it
 * at boot proves the configured key is the one that protects the stored records.
 */
export const KEY_CHECK_VALUE: Buffer = createHash('sha256').update('airlock-vault key check v1').digest();
