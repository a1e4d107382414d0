import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { LeaseSecretSchema, type LeaseSecret } from '@airlock/contracts';
import {
  KEY_ENCRYPTION_KEYS,
  KeyUnavailableError,
  type KeyEncryptionKeys,
  type WrappedKey,
} from './key-encryption-keys';

const DEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A secret as it is stored: only ciphertext, and the data key only in wrapped form. */
export interface EncryptedSecret {
  keyId: string;
  wrappedDek: Buffer;
  dekIv: Buffer;
  dekTag: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** The record a secret belongs to; its ciphertext is bound to it. */
export interface SecretRecord {
  connection: string;
  version: number;
}

/** A stored secret that does not decrypt: it was moved, tampered with, or its key is wrong. */
export class SecretUnreadableError extends Error {
  override readonly name = 'SecretUnreadableError';
  constructor(record: SecretRecord, keyId: string, options?: { cause?: unknown }) {
    super(
      `secret version ${record.version} of connection ${record.connection} (key ${keyId}) does not decrypt`,
      options,
    );
  }
}

/**
 * Envelope encryption: each record gets a fresh random data key (DEK); the secret's JSON is
 * encrypted with AES-256-GCM under the DEK with AAD `<connection>:<version>`, so a ciphertext
 * copied onto another record does not decrypt; the DEK is wrapped by the current key-encryption
 * key, which never enters the database. Rotating the KEK rewraps DEKs and leaves the data as is.
 */
@Injectable()
export class SecretCipher {
  constructor(@Inject(KEY_ENCRYPTION_KEYS) private readonly keys: KeyEncryptionKeys) {}

  async encrypt(secret: LeaseSecret, record: SecretRecord): Promise<EncryptedSecret> {
    const plaintext = Buffer.from(JSON.stringify(LeaseSecretSchema.parse(secret)), 'utf8');
    const dek = randomBytes(DEK_BYTES);
    try {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', dek, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(recordAad(record));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const tag = cipher.getAuthTag();
      const wrapped = await this.keys.wrap(dek);
      return {
        keyId: wrapped.keyId,
        wrappedDek: wrapped.wrapped,
        dekIv: wrapped.iv,
        dekTag: wrapped.tag,
        iv,
        ciphertext,
        tag,
      };
    } finally {
      dek.fill(0);
      plaintext.fill(0);
    }
  }

  /** Throws `KeyUnavailableError` when the record's key is not configured, `SecretUnreadableError` otherwise. */
  async decrypt(stored: EncryptedSecret, record: SecretRecord): Promise<LeaseSecret> {
    const dek = await this.unwrapDek(stored, record);
    let plaintext: Buffer | undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', dek, stored.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(recordAad(record));
      decipher.setAuthTag(stored.tag);
      plaintext = Buffer.concat([decipher.update(stored.ciphertext), decipher.final()]);
      const parsed = LeaseSecretSchema.safeParse(JSON.parse(plaintext.toString('utf8')));
      if (!parsed.success) throw new Error('decrypted secret does not match the lease secret schema');
      return parsed.data;
    } catch (cause) {
      // The cause names the failing step only: neither the GCM error nor the schema check quote the data.
      throw new SecretUnreadableError(record, stored.keyId, { cause: (cause as Error).message });
    } finally {
      dek.fill(0);
      plaintext?.fill(0);
    }
  }

  /** Wraps the record's data key again under the current key-encryption key. */
  async rewrap(stored: Pick<EncryptedSecret, 'keyId' | 'wrappedDek' | 'dekIv' | 'dekTag'>): Promise<WrappedKey> {
    const dek = await this.keys.unwrap(stored.keyId, stored.wrappedDek, stored.dekIv, stored.dekTag);
    try {
      return await this.keys.wrap(dek);
    } finally {
      dek.fill(0);
    }
  }

  private async unwrapDek(stored: EncryptedSecret, record: SecretRecord): Promise<Buffer> {
    const dek = await this.keys.unwrap(stored.keyId, stored.wrappedDek, stored.dekIv, stored.dekTag).catch((err) => {
      if (err instanceof KeyUnavailableError) throw err;
      throw new SecretUnreadableError(record, stored.keyId, { cause: (err as Error).message });
    });
    if (dek.length !== DEK_BYTES) throw new SecretUnreadableError(record, stored.keyId);
    return dek;
  }
}

function recordAad(record: SecretRecord): Buffer {
  return Buffer.from(`${record.connection}:${record.version}`, 'utf8');
}
