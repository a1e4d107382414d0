import { createPublicKey, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

export type TestSigningAlgorithm = 'RS256' | 'ES256';

export interface TestSigningKey {
  alg: TestSigningAlgorithm;
  kid: string;
  privateKey: KeyObject;
  /** Public half as published in the JWKS (with `kid`, `alg`, `use`). */
  publicJwk: JWK;
}

export interface TestKeySet {
  rsa: TestSigningKey;
  ec?: TestSigningKey;
}

interface KeyFileContent {
  keys: JWK[];
}

/**
 * Loads the signing keys from `keyFile`, creating (and persisting, mode 0600) what is missing.
 * Without a key file the keys live only as long as the process.
 */
export async function loadOrCreateKeys(options: { keyFile?: string; ecKey?: boolean }): Promise<TestKeySet> {
  const stored = options.keyFile === undefined ? [] : await readKeyFile(options.keyFile);
  const byAlg = new Map<string, JWK>(stored.map((jwk) => [String(jwk.alg), jwk]));

  let changed = false;
  const obtain = async (alg: TestSigningAlgorithm): Promise<TestSigningKey> => {
    const existing = byAlg.get(alg);
    if (existing !== undefined) {
      return fromPrivateJwk(existing, alg);
    }
    changed = true;
    const generated = await generateSigningKey(alg);
    byAlg.set(alg, await privateJwkOf(generated));
    return generated;
  };

  const keys: TestKeySet = { rsa: await obtain('RS256') };
  if (options.ecKey === true || byAlg.has('ES256')) {
    keys.ec = await obtain('ES256');
  }
  if (options.keyFile !== undefined && changed) {
    await writeKeyFile(options.keyFile, { keys: [...byAlg.values()] });
  }
  return keys;
}

export async function generateSigningKey(alg: TestSigningAlgorithm, kid?: string): Promise<TestSigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return describe(privateKey as KeyObject, alg, kid);
}

async function fromPrivateJwk(jwk: JWK, alg: TestSigningAlgorithm): Promise<TestSigningKey> {
  const privateKey = await importJWK(jwk, alg);
  if (privateKey instanceof Uint8Array || privateKey.type !== 'private') {
    throw new Error(`key file entry for ${alg} is not a private key`);
  }
  return describe(privateKey as KeyObject, alg, jwk.kid);
}

async function describe(privateKey: KeyObject, alg: TestSigningAlgorithm, kid?: string): Promise<TestSigningKey> {
  const publicJwk = await exportJWK(createPublicKey(privateKey));
  const keyId = kid ?? (await calculateJwkThumbprint(publicJwk));
  return { alg, kid: keyId, privateKey, publicJwk: { ...publicJwk, kid: keyId, alg, use: 'sig' } };
}

async function privateJwkOf(key: TestSigningKey): Promise<JWK> {
  return { ...(await exportJWK(key.privateKey)), kid: key.kid, alg: key.alg, use: 'sig' };
}

async function readKeyFile(path: string): Promise<JWK[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return [];
    }
    throw error;
  }
  const content = JSON.parse(text) as Partial<KeyFileContent>;
  if (!Array.isArray(content.keys)) {
    throw new Error(`${path} is not a test IdP key file (no "keys" list)`);
  }
  return content.keys;
}

async function writeKeyFile(path: string, content: KeyFileContent): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
