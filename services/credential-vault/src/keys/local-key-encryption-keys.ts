import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { ConfigError } from '@airlock/runtime';
import { KeyIdSchema, type VaultStoreConfig } from '../config';
import { KeyUnavailableError, UnwrapFailedError, type KeyEncryptionKeys, type WrappedKey } from './key-encryption-keys';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const DEFAULT_KEK_ID = 'local-1';

/**
 * Key-encryption keys held in this process's memory (from VAULT_KEK_FILE or VAULT_KEK). Data
 * keys are wrapped with AES-256-GCM; the key id is authenticated with them, so a wrapped key
 * relabelled with another id does not unwrap.
 */
export class LocalKeyEncryptionKeys implements KeyEncryptionKeys {
  readonly keyIds: readonly string[];

  constructor(
    readonly source: string,
    readonly currentKeyId: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
  ) {
    if (!keys.has(currentKeyId)) throw new Error(`${source}: the current key ${currentKeyId} is not among the keys`);
    for (const [id, key] of keys) {
      if (key.length !== KEY_BYTES) throw new Error(`${source}: key ${id} is not ${KEY_BYTES} bytes`);
    }
    this.keyIds = [...keys.keys()];
  }

  async wrap(dek: Buffer): Promise<WrappedKey> {
    const keyId = this.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(keyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(wrapAad(keyId));
    const wrapped = Buffer.concat([cipher.update(dek), cipher.final()]);
    return { keyId, wrapped, iv, tag: cipher.getAuthTag() };
  }

  async unwrap(keyId: string, wrapped: Buffer, iv: Buffer, tag: Buffer): Promise<Buffer> {
    const key = this.keys.get(keyId);
    if (!key) throw new KeyUnavailableError(keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(wrapAad(keyId));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(wrapped), decipher.final()]);
    } catch {
      throw new UnwrapFailedError(keyId);
    }
  }

  /** Key material must never reach a log line, whoever logs this object. */
  toJSON(): object {
    return { source: this.source, currentKeyId: this.currentKeyId, keyIds: this.keyIds };
  }

  [inspect.custom](): string {
    return `LocalKeyEncryptionKeys(${this.source}: ${this.keyIds.join(', ')}; current ${this.currentKeyId})`;
  }
}

function wrapAad(keyId: string): Buffer {
  return Buffer.from(`airlock-vault-dek:v1:${keyId}`, 'utf8');
}

export interface KeyFileSystem {
  statSync(path: string): { mode: number; isFile(): boolean };
  readFileSync(path: string, encoding: 'utf8'): string;
}

/**
 * Builds the local keys from VAULT_KEK_FILE, or VAULT_KEK with VAULT_KEK_ID. A missing or bad
 * setting throws a `ConfigError` that names it and never repeats key material.
 */
export function loadLocalKeyEncryptionKeys(
  config: Pick<VaultStoreConfig, 'VAULT_KEK_FILE' | 'VAULT_KEK' | 'VAULT_KEK_ID'>,
  fs: KeyFileSystem = { statSync, readFileSync },
): LocalKeyEncryptionKeys {
  const { VAULT_KEK_FILE: file, VAULT_KEK: inline, VAULT_KEK_ID: inlineId } = config;
  if (file !== undefined && inline !== undefined) {
    throw new ConfigError(['VAULT_KEK_FILE, VAULT_KEK: set one of them, not both']);
  }
  if (file !== undefined) {
    if (inlineId !== undefined) {
      throw new ConfigError(['VAULT_KEK_ID: only used with VAULT_KEK (the key file names its current key)']);
    }
    return fromKeyFile(file, fs);
  }
  if (inline !== undefined) {
    const keyId = inlineId ?? DEFAULT_KEK_ID;
    return new LocalKeyEncryptionKeys('VAULT_KEK', keyId, new Map([[keyId, decodeKey('VAULT_KEK', inline)]]));
  }
  throw new ConfigError([
    'VAULT_KEK_FILE or VAULT_KEK: required, the key-encryption key that protects stored secrets (base64 of 32 random bytes)',
  ]);
}

function fromKeyFile(path: string, fs: KeyFileSystem): LocalKeyEncryptionKeys {
  let stat: { mode: number; isFile(): boolean };
  try {
    stat = fs.statSync(path);
  } catch (err) {
    throw new ConfigError([`VAULT_KEK_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  if (!stat.isFile()) throw new ConfigError([`VAULT_KEK_FILE: ${path} is not a regular file`]);
  if ((stat.mode & 0o006) !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigError([
      `VAULT_KEK_FILE: ${path} is readable or writable by every user (mode ${mode}); restrict it, e.g. chmod 600`,
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    const why =
      err instanceof SyntaxError ? 'not valid JSON' : `cannot read it (${(err as NodeJS.ErrnoException).code})`;
    throw new ConfigError([`VAULT_KEK_FILE: ${path} is ${why}`]);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`VAULT_KEK_FILE: expected {"current": "<keyId>", "keys": {"<keyId>": "<base64>"}}`]);
  }
  const { current, keys } = parsed as { current?: unknown; keys?: unknown };
  const problems: string[] = [];
  const material = new Map<string, Buffer>();
  if (keys === null || typeof keys !== 'object' || Array.isArray(keys) || Object.keys(keys).length === 0) {
    problems.push('VAULT_KEK_FILE: "keys" must map at least one key id to a base64 key');
  } else {
    for (const [id, value] of Object.entries(keys)) {
      if (!KeyIdSchema.safeParse(id).success) {
        problems.push(
          `VAULT_KEK_FILE: key id ${JSON.stringify(id.slice(0, 64))} is not valid (1-64 of [A-Za-z0-9_.:-])`,
        );
        continue;
      }
      try {
        material.set(id, decodeKey(`VAULT_KEK_FILE keys.${id}`, value));
      } catch (err) {
        problems.push(...(err as ConfigError).problems);
      }
    }
  }
  if (typeof current !== 'string' || current === '') {
    problems.push('VAULT_KEK_FILE: "current" must name the key id that wraps new data keys');
  } else if (problems.length === 0 && !material.has(current)) {
    problems.push(`VAULT_KEK_FILE: "current" names key ${current}, which is not in "keys"`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return new LocalKeyEncryptionKeys('VAULT_KEK_FILE', current as string, material);
}

function decodeKey(setting: string, value: unknown): Buffer {
  if (typeof value !== 'string') throw new ConfigError([`${setting}: must be a base64 string`]);
  const bytes = Buffer.from(value.trim(), 'base64');
  if (bytes.toString('base64') !== value.trim() || bytes.length !== KEY_BYTES) {
    throw new ConfigError([`${setting}: must be base64 of exactly ${KEY_BYTES} bytes (e.g. openssl rand -base64 32)`]);
  }
  return bytes;
}
