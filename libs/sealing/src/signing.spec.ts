import { MessageSigner, SignatureError, TrustedKeys, canonicalJson, generateSigningKeyPair } from './signing';

function signer(name: string) {
  const pair = generateSigningKeyPair();
  return { signer: MessageSigner.fromPem(name, pair.privateKeyPem), publicKeyPem: pair.publicKeyPem };
}

function trust(...entries: { name: string; publicKeyPem: string }[]): TrustedKeys {
  return TrustedKeys.fromJson(
    JSON.stringify({ keys: entries.map((e) => ({ signer: e.name, publicKey: e.publicKeyPem })) }),
  );
}

describe('message signatures', () => {
  const policy = signer('policy');
  const attacker = signer('policy');
  const keys = trust({ name: 'policy', publicKeyPem: policy.publicKeyPem });
  const ctx = { topic: 'airlock.policy.evaluate.reply', correlationId: 'c-1' };
  const decision = { requestId: 'r-1', decision: 'allow', masking: [], nested: { b: 1, a: [1, { y: 2, x: 1 }] } };

  it('verifies what the trusted signer signed, whatever the key order', () => {
    const signed = policy.signer.sign(ctx, decision);
    const reordered = JSON.parse(
      JSON.stringify({
        signature: signed.signature,
        nested: signed.nested,
        masking: [],
        decision: 'allow',
        requestId: 'r-1',
      }),
    );
    expect(keys.verify(ctx, reordered, ['policy'])).toEqual({ signer: 'policy', keyId: policy.signer.keyId });
  });

  it('refuses an unsigned message, a changed field, another correlation id, another topic', () => {
    const signed = policy.signer.sign(ctx, decision);
    expect(() => keys.verify(ctx, decision, ['policy'])).toThrow(/not signed/);
    expect(() => keys.verify(ctx, { ...signed, decision: 'deny' }, ['policy'])).toThrow(/does not verify/);
    expect(() => keys.verify({ ...ctx, correlationId: 'c-2' }, signed, ['policy'])).toThrow(/does not verify/);
    expect(() => keys.verify({ topic: 'airlock.vault.lease.reply', correlationId: 'c-1' }, signed, ['policy'])).toThrow(
      /does not verify/,
    );
  });

  it('refuses a key it does not trust, even under a trusted signer name, and a signer not expected on the topic', () => {
    const forged = attacker.signer.sign(ctx, decision);
    expect(() => keys.verify(ctx, forged, ['policy'])).toThrow(/not a trusted key of policy/);
    const signed = policy.signer.sign(ctx, decision);
    expect(() => keys.verify(ctx, signed, ['credential-vault'])).toThrow(SignatureError);
    expect(() => keys.verify(ctx, { ...signed, signature: { ...signed.signature, sig: 'AAAA' } }, ['policy'])).toThrow(
      /does not verify/,
    );
    expect(() => keys.verify(ctx, { ...signed, signature: 'x' }, ['policy'])).toThrow(/malformed/);
  });

  it('trusts several keys of one signer during a rotation', () => {
    const next = signer('policy');
    const both = trust(
      { name: 'policy', publicKeyPem: policy.publicKeyPem },
      { name: 'policy', publicKeyPem: next.publicKeyPem },
    );
    expect(both.verify(ctx, policy.signer.sign(ctx, decision), ['policy']).keyId).toBe(policy.signer.keyId);
    expect(both.verify(ctx, next.signer.sign(ctx, decision), ['policy']).keyId).toBe(next.signer.keyId);
    expect(policy.signer.keyId).not.toBe(next.signer.keyId);
  });

  it('rejects bad trusted-key files and signing keys with a reason', () => {
    expect(() => TrustedKeys.fromJson('nope')).toThrow(/not valid JSON/);
    expect(() => TrustedKeys.fromJson('{"keys":[{"signer":"policy","publicKey":"x"}]}')).toThrow(
      /not a PEM public key/,
    );
    expect(() =>
      TrustedKeys.fromJson(
        JSON.stringify({ keys: [{ signer: 'policy', publicKey: policy.publicKeyPem, keyId: 'ffff' }] }),
      ),
    ).toThrow(/keyId/);
    expect(() => MessageSigner.fromPem('policy', 'not a key')).toThrow(/not a PEM private key/);
  });

  it('writes canonical JSON with sorted keys and without undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: 'x' }, e: [undefined, 2] })).toBe(
      '{"a":{"c":"x"},"b":1,"e":[null,2]}',
    );
  });
});
