import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as edSign,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';

/**
 * Ed25519 signatures on the Kafka messages that decide something (policy decisions, approval
 * replies and decisions, lease requests and replies). Kafka is shared infrastructure: a broker
 * ACL keeps strangers off a topic, a signature proves which service wrote a message even when
 * the ACLs are wrong or a credential leaked.
 *
 * What is signed: a domain tag, the topic, the correlation id of a request/reply exchange (so a
 * signed answer cannot be replayed to another request), and the message in canonical JSON
 * (sorted keys) without its own `signature` field. The signature travels in the message as
 * `signature: { alg, signer, keyId, sig }`; the key id lets a verifier trust several keys of one
 * signer during a rotation.
 */
export const SIGNATURE_ALGORITHM = 'Ed25519' as const;
const DOMAIN = 'airlock-message-signature-v1';

export interface MessageSignature {
  alg: typeof SIGNATURE_ALGORITHM;
  /** The service that signed (its Kafka principal name). */
  signer: string;
  /** Which of the signer's keys: the first 16 hex digits of the SHA-256 of its public key (SPKI DER). */
  keyId: string;
  /** base64 */
  sig: string;
}

/** Where a message was sent: part of what is signed, so a signature is valid there only. */
export interface SignatureContext {
  topic: string;
  /** Request/reply: the correlation id of the exchange. */
  correlationId?: string;
}

/** Why a signed message was refused. The reason names what failed, never key material. */
export class SignatureError extends Error {
  override readonly name = 'SignatureError';
}

/** JSON with object keys sorted and no whitespace: the same bytes for the same value on every side. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new SignatureError('a value cannot be represented in JSON');
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The bytes a signature covers. */
export function signedBytes(context: SignatureContext, message: Record<string, unknown>): Buffer {
  const { signature: _ignored, ...body } = message;
  void _ignored;
  return Buffer.from(
    canonicalJson({ domain: DOMAIN, topic: context.topic, correlationId: context.correlationId ?? null, body }),
    'utf8',
  );
}

export function keyIdOf(publicKey: KeyObject): string {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new SignatureError('not an Ed25519 public key');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** A fresh key pair in PEM (PKCS#8 private, SPKI public), as key files hold them. */
export function generateSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** One service's signing key: it signs what the service answers or asks. */
export class MessageSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;

  private constructor(
    readonly signer: string,
    private readonly privateKey: KeyObject,
  ) {
    const publicKey = createPublicKey(privateKey);
    this.keyId = keyIdOf(publicKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** From a PEM (PKCS#8) Ed25519 private key. */
  static fromPem(signer: string, pem: string): MessageSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch {
      throw new SignatureError(`the signing key of ${signer} is not a PEM private key`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new SignatureError(`the signing key of ${signer} is not Ed25519`);
    return new MessageSigner(signer, key);
  }

  signature(context: SignatureContext, message: Record<string, unknown>): MessageSignature {
    const sig = edSign(null, signedBytes(context, message), this.privateKey).toString('base64');
    return { alg: SIGNATURE_ALGORITHM, signer: this.signer, keyId: this.keyId, sig };
  }

  /** The message with its signature added. */
  sign<T extends object>(context: SignatureContext, message: T): T & { signature: MessageSignature } {
    return { ...message, signature: this.signature(context, message as Record<string, unknown>) };
  }
}

export interface TrustedKey {
  signer: string;
  keyId: string;
  publicKey: KeyObject;
}

/** Who signed a message that verified. */
export interface VerifiedSigner {
  signer: string;
  keyId: string;
}

/**
 * The public keys a service trusts, several per signer during a rotation. A message verifies
 * only when it carries a signature by one of the signers expected on its topic, made with a key
 * of that signer listed here.
 */
export class TrustedKeys {
  private readonly byId = new Map<string, TrustedKey>();

  constructor(keys: readonly TrustedKey[] = []) {
    for (const key of keys) this.byId.set(key.keyId, key);
  }

  /**
   * From the JSON of a trusted-keys file: `{"keys": [{"signer": "policy", "publicKey": "-----BEGIN PUBLIC KEY-----..."}]}`.
   * A `keyId` in an entry, when given, must match the key.
   */
  static fromJson(text: string): TrustedKeys {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SignatureError('the trusted keys are not valid JSON');
    }
    const entries = (parsed as { keys?: unknown })?.keys;
    if (!Array.isArray(entries)) throw new SignatureError('the trusted keys must be {"keys": [...]}');
    const keys = entries.map((entry: unknown, i): TrustedKey => {
      const { signer, publicKey, keyId } = (entry ?? {}) as Record<string, unknown>;
      if (typeof signer !== 'string' || !/^[a-z0-9-]+$/.test(signer)) {
        throw new SignatureError(`trusted key ${i}: signer must be a service name`);
      }
      if (typeof publicKey !== 'string') throw new SignatureError(`trusted key ${i}: publicKey must be a PEM string`);
      let key: KeyObject;
      try {
        key = createPublicKey(publicKey);
      } catch {
        throw new SignatureError(`trusted key ${i}: publicKey is not a PEM public key`);
      }
      if (key.asymmetricKeyType !== 'ed25519') throw new SignatureError(`trusted key ${i}: not an Ed25519 key`);
      const id = keyIdOf(key);
      if (keyId !== undefined && keyId !== id)
        throw new SignatureError(`trusted key ${i}: keyId ${String(keyId)} is not the key's id ${id}`);
      return { signer, keyId: id, publicKey: key };
    });
    return new TrustedKeys(keys);
  }

  get size(): number {
    return this.byId.size;
  }

  signers(): string[] {
    return [...new Set([...this.byId.values()].map((k) => k.signer))];
  }

  /** Throws SignatureError with the reason when the message is not signed by one of `expected`. */
  verify(context: SignatureContext, message: unknown, expected: readonly string[]): VerifiedSigner {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      throw new SignatureError(`message on ${context.topic} is not an object`);
    }
    const signature = (message as { signature?: unknown }).signature;
    if (signature === undefined || signature === null)
      throw new SignatureError(`message on ${context.topic} is not signed`);
    const { alg, signer, keyId, sig } = signature as Partial<MessageSignature>;
    if (
      alg !== SIGNATURE_ALGORITHM ||
      typeof signer !== 'string' ||
      typeof keyId !== 'string' ||
      typeof sig !== 'string'
    ) {
      throw new SignatureError(`message on ${context.topic} has a malformed signature`);
    }
    if (!expected.includes(signer)) {
      throw new SignatureError(`message on ${context.topic} is signed by ${signer}, which may not sign there`);
    }
    const key = this.byId.get(keyId);
    if (!key || key.signer !== signer) {
      throw new SignatureError(
        `message on ${context.topic} is signed with key ${keyId}, not a trusted key of ${signer}`,
      );
    }
    const ok = edVerify(
      null,
      signedBytes(context, message as Record<string, unknown>),
      key.publicKey,
      Buffer.from(sig, 'base64'),
    );
    if (!ok)
      throw new SignatureError(
        `message on ${context.topic} has a signature that does not verify (key ${keyId} of ${signer})`,
      );
    return { signer, keyId };
  }
}
