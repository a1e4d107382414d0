import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageSigner, TrustedKeys, generateSigningKeyPair } from '@airlock/sealing';
import type { ServiceName } from './service-process';

/** The services that sign what they send on Kafka. */
export const SIGNING_SERVICES = ['ingress-proxy', 'policy', 'approval', 'credential-vault'] as const;
export type SigningService = (typeof SIGNING_SERVICES)[number];

interface KeySet {
  dir: string;
  keyFiles: Record<SigningService, string>;
  pems: Record<SigningService, string>;
  trustFile: string;
  trustJson: string;
}

let keySet: KeySet | undefined;

/**
 * One Ed25519 key per signing service for this test process, in a temporary folder, and one
 * trusted-keys file naming all their public keys (what a deployment distributes, docs/security.md).
 */
export function testSigningKeys(): KeySet {
  if (keySet) return keySet;
  const dir = mkdtempSync(join(tmpdir(), 'airlock-keys-'));
  const keyFiles = {} as Record<SigningService, string>;
  const pems = {} as Record<SigningService, string>;
  const trusted: { signer: string; publicKey: string }[] = [];
  for (const service of SIGNING_SERVICES) {
    const pair = generateSigningKeyPair();
    keyFiles[service] = join(dir, `${service}.key.pem`);
    pems[service] = pair.privateKeyPem;
    writeFileSync(keyFiles[service], pair.privateKeyPem, { mode: 0o600 });
    trusted.push({ signer: service, publicKey: pair.publicKeyPem });
  }
  const trustJson = JSON.stringify({ keys: trusted }, null, 2);
  const trustFile = join(dir, 'trusted-keys.json');
  writeFileSync(trustFile, trustJson);
  keySet = { dir, keyFiles, pems, trustFile, trustJson };
  return keySet;
}

/** The signing settings of a service: its own key, and (ingress, vault) the keys it trusts. */
export function serviceSigningEnv(name: ServiceName): Record<string, string> {
  if (name === 'recorder') return {};
  const keys = testSigningKeys();
  const own = { SIGNING_KEY_FILE: keys.keyFiles[name] };
  return name === 'ingress-proxy' || name === 'credential-vault' ? { ...own, TRUSTED_KEYS_FILE: keys.trustFile } : own;
}

/** A test's stand-in for a service's signing key (e.g. to ask the vault for a lease as the ingress). */
export function testSigner(name: SigningService): MessageSigner {
  return MessageSigner.fromPem(name, testSigningKeys().pems[name]);
}

export function testTrustedKeys(): TrustedKeys {
  return TrustedKeys.fromJson(testSigningKeys().trustJson);
}
