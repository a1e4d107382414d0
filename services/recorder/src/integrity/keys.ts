import { readFileSync } from 'node:fs';
import { CheckpointSigner, CheckpointVerifier, SigningKeyError } from './checkpoint-signer';
import type { RecorderStoreConfig } from '../config';

export const CHECKPOINT_SIGNER = Symbol('CHECKPOINT_SIGNER');
export const CHECKPOINT_VERIFIER = Symbol('CHECKPOINT_VERIFIER');

function readKeyFile(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new SigningKeyError(`${setting} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

export function loadSigner(config: RecorderStoreConfig): CheckpointSigner {
  return CheckpointSigner.fromPem(
    readKeyFile(config.AUDIT_SIGNING_KEY_FILE, 'AUDIT_SIGNING_KEY_FILE'),
    'AUDIT_SIGNING_KEY_FILE',
  );
}

/** Trusts the signing key's own public key and those of AUDIT_VERIFY_KEYS_FILE (earlier keys). */
export function loadVerifier(config: RecorderStoreConfig, signer: CheckpointSigner): CheckpointVerifier {
  const earlier = config.AUDIT_VERIFY_KEYS_FILE
    ? CheckpointVerifier.publicKeysFromPem(readKeyFile(config.AUDIT_VERIFY_KEYS_FILE, 'AUDIT_VERIFY_KEYS_FILE'))
    : [];
  return new CheckpointVerifier([signer.publicKey, ...earlier]);
}
