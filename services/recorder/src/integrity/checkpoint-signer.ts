import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/**
 * A checkpoint states, under an Ed25519 signature made with a key kept outside the database,
 * which link a chain had reached (`head`) or up to which link old partitions were dropped
 * (`retention`). Deleting the tail of a chain, or its start without a retention checkpoint, is
 * then detected even by someone who can rewrite the rows and their hashes.
 */
export type CheckpointKind = 'head' | 'retention';

export interface CheckpointBody {
  kind: CheckpointKind;
  chain: number;
  seq: string;
  /** Hex SHA-256 of the link at `seq`. */
  hash: string;
  createdAt: string;
  keyId: string;
  details: Record<string, unknown>;
}

export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

/** The bytes that are signed: the checkpoint in RFC 8785 form, tagged with a format version. */
export function checkpointSigningInput(body: CheckpointBody): Buffer {
  return Buffer.from(canonicalJson({ format: 'airlock.audit.checkpoint/1', ...body }), 'utf8');
}

/** A short, stable name for a public key: the first 16 hex digits of SHA-256 over its SPKI form. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export class CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;

  private constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  /** From a PKCS#8 PEM Ed25519 private key. */
  static fromPem(pem: string, source = 'the signing key'): CheckpointSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch {
      throw new SigningKeyError(`${source} is not a PEM private key`);
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new SigningKeyError(`${source} is a ${key.asymmetricKeyType} key; checkpoints are signed with Ed25519`);
    }
    return new CheckpointSigner(key);
  }

  sign(body: Omit<CheckpointBody, 'keyId'>): { body: CheckpointBody; signature: Buffer } {
    const full: CheckpointBody = { ...body, keyId: this.keyId };
    return { body: full, signature: sign(null, checkpointSigningInput(full), this.privateKey) };
  }
}

/** Checks checkpoint signatures against the public keys it trusts, chosen by key id. */
export class CheckpointVerifier {
  private readonly keys = new Map<string, KeyObject>();

  constructor(publicKeys: KeyObject[]) {
    for (const k of publicKeys) {
      if (k.asymmetricKeyType !== 'ed25519') throw new SigningKeyError('checkpoint verification keys must be Ed25519');
      this.keys.set(keyIdOf(k), k);
    }
  }

  /** Public keys from PEM text holding one or more `PUBLIC KEY` blocks. */
  static publicKeysFromPem(pem: string): KeyObject[] {
    const blocks = pem.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
    return blocks.map((b) => createPublicKey(b));
  }

  /** Why a checkpoint cannot be trusted, or undefined when its signature holds. */
  problem(body: CheckpointBody, signature: Buffer): string | undefined {
    const key = this.keys.get(body.keyId);
    if (!key) return `signed with unknown key ${body.keyId}`;
    return verify(null, checkpointSigningInput(body), key, signature) ? undefined : 'signature does not verify';
  }
}
