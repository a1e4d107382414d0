import { createHash, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import {
  CheckpointSigner,
  CheckpointVerifier,
  SigningKeyError,
  checkpointSigningInput,
  keyIdOf,
  type CheckpointBody,
} from './checkpoint-signer';

function ed25519(): { privatePem: string; publicPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKey,
  };
}

const unsigned: Omit<CheckpointBody, 'keyId'> = {
  kind: 'retention',
  chain: 2,
  seq: '1500',
  hash: 'c3'.repeat(32),
  createdAt: '2026-03-04T05:06:07.089Z',
  details: { partitions: ['audit_event_20260101', 'audit_event_20260102'], firstSeq: '1', events: 1500 },
};

describe('checkpoint signing', () => {
  const key = ed25519();
  const signer = CheckpointSigner.fromPem(key.privatePem);
  const verifier = new CheckpointVerifier([signer.publicKey]);

  it('signs a checkpoint that its own public key verifies', () => {
    const { body, signature } = signer.sign(unsigned);
    expect(body).toEqual({ ...unsigned, keyId: signer.keyId });
    expect(signature.length).toBe(64);
    expect(verifier.problem(body, signature)).toBeUndefined();
  });

  it('signs the canonical JSON of the body tagged with its format', () => {
    const { body, signature } = signer.sign(unsigned);
    const expectedInput = canonicalJson({ ...body, format: 'airlock.audit.checkpoint/1' });
    expect(checkpointSigningInput(body).toString('utf8')).toBe(expectedInput);
    // Anyone holding the public key can check it with plain Ed25519.
    expect(verify(null, Buffer.from(expectedInput, 'utf8'), key.publicKey, signature)).toBe(true);
    expect(verify(null, Buffer.from(canonicalJson(body), 'utf8'), key.publicKey, signature)).toBe(false);
  });

  it('does not depend on the order of the members of the body', () => {
    const { body, signature } = signer.sign(unsigned);
    const reordered: CheckpointBody = {
      details: { events: 1500, firstSeq: '1', partitions: ['audit_event_20260101', 'audit_event_20260102'] },
      keyId: body.keyId,
      createdAt: body.createdAt,
      hash: body.hash,
      seq: body.seq,
      chain: body.chain,
      kind: body.kind,
    };
    expect(verifier.problem(reordered, signature)).toBeUndefined();
  });

  it('names a key by the first 16 hex digits of SHA-256 over its SPKI form, the same each time it is read', () => {
    const expected = createHash('sha256')
      .update(key.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 16);
    expect(signer.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(signer.keyId).toBe(expected);
    expect(keyIdOf(key.publicKey)).toBe(expected);
    expect(CheckpointSigner.fromPem(key.privatePem).keyId).toBe(expected);
    expect(CheckpointSigner.fromPem(ed25519().privatePem).keyId).not.toBe(expected);
  });

  it.each<[string, Partial<CheckpointBody>]>([
    ['seq', { seq: '1501' }],
    ['hash', { hash: 'c3'.repeat(31) + 'c4' }],
    ['kind', { kind: 'head' }],
    ['chain', { chain: 3 }],
    ['createdAt', { createdAt: '2026-03-04T05:06:07.090Z' }],
    ['details (a nested value)', { details: { ...unsigned.details, events: 1499 } }],
    ['details (a member added)', { details: { ...unsigned.details, note: 'x' } }],
    ['details (emptied)', { details: {} }],
  ])('finds a checkpoint whose %s was changed after signing', (_field, change) => {
    const { body, signature } = signer.sign(unsigned);
    expect(verifier.problem(body, signature)).toBeUndefined();
    expect(verifier.problem({ ...body, ...change }, signature)).toBe('signature does not verify');
  });

  it('finds a changed signature', () => {
    const { body, signature } = signer.sign(unsigned);
    const flipped = Buffer.from(signature);
    flipped[10] ^= 0x01;
    expect(verifier.problem(body, flipped)).toBe('signature does not verify');
    expect(verifier.problem(body, Buffer.alloc(0))).toBe('signature does not verify');
  });

  it('names an unknown key id', () => {
    const stranger = CheckpointSigner.fromPem(ed25519().privatePem);
    const { body, signature } = stranger.sign(unsigned);
    expect(verifier.problem(body, signature)).toBe(`signed with unknown key ${stranger.keyId}`);
  });

  it('does not accept a signature of one key relabelled with the id of another trusted key', () => {
    const other = CheckpointSigner.fromPem(ed25519().privatePem);
    const both = new CheckpointVerifier([signer.publicKey, other.publicKey]);
    const { body, signature } = other.sign(unsigned);
    expect(both.problem(body, signature)).toBeUndefined();
    expect(both.problem({ ...body, keyId: signer.keyId }, signature)).toBe('signature does not verify');
  });

  describe('private keys', () => {
    it('refuses an RSA key', () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(() => CheckpointSigner.fromPem(pem, 'AUDIT_SIGNING_KEY_FILE')).toThrow(
        new SigningKeyError('AUDIT_SIGNING_KEY_FILE is a rsa key; checkpoints are signed with Ed25519'),
      );
    });

    it.each([
      ['an EC key', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey, 'ec'],
      ['an Ed448 key', () => generateKeyPairSync('ed448').privateKey, 'ed448'],
      ['an X25519 key', () => generateKeyPairSync('x25519').privateKey, 'x25519'],
    ])('refuses %s', (_what, make, type) => {
      const pem = make().export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(() => CheckpointSigner.fromPem(pem)).toThrow(SigningKeyError);
      expect(() => CheckpointSigner.fromPem(pem)).toThrow(`the signing key is a ${type} key`);
    });

    it('refuses text that holds no private key, a public key included', () => {
      expect(() => CheckpointSigner.fromPem('not a key', 'key.pem')).toThrow(
        new SigningKeyError('key.pem is not a PEM private key'),
      );
      expect(() => CheckpointSigner.fromPem(key.publicPem, 'key.pem')).toThrow(
        new SigningKeyError('key.pem is not a PEM private key'),
      );
    });
  });

  describe('public keys', () => {
    it('reads every PUBLIC KEY block of a PEM text, with text around and between them', () => {
      const older = ed25519();
      const oldest = ed25519();
      const pem = `# rotated 2026-01\n${older.publicPem}\nsome note\n${oldest.publicPem}trailing`;
      const keys = CheckpointVerifier.publicKeysFromPem(pem);
      expect(keys.map(keyIdOf)).toEqual([keyIdOf(older.publicKey), keyIdOf(oldest.publicKey)]);
    });

    it('reads nothing from text without a PUBLIC KEY block', () => {
      expect(CheckpointVerifier.publicKeysFromPem('')).toEqual([]);
      expect(CheckpointVerifier.publicKeysFromPem(key.privatePem)).toEqual([]);
    });

    it('verifies checkpoints of earlier keys read from PEM alongside the current one', () => {
      const earlier = ed25519();
      const earlierSigner = CheckpointSigner.fromPem(earlier.privatePem);
      const old = earlierSigner.sign(unsigned);
      const current = signer.sign({ ...unsigned, seq: '1600' });
      const rotated = new CheckpointVerifier([
        signer.publicKey,
        ...CheckpointVerifier.publicKeysFromPem(earlier.publicPem),
      ]);
      expect(rotated.problem(old.body, old.signature)).toBeUndefined();
      expect(rotated.problem(current.body, current.signature)).toBeUndefined();
      expect(verifier.problem(old.body, old.signature)).toBe(`signed with unknown key ${earlierSigner.keyId}`);
    });

    it('refuses a verification key that is not Ed25519', () => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      expect(() => new CheckpointVerifier([signer.publicKey, publicKey])).toThrow(SigningKeyError);
    });
  });
});
