import { ConsoleLogger, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { VaultLeaseReplySchema, uuidv7, type AuditEventDraft, type VaultLeaseRequest } from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import { generateSealingKeyPair, unseal } from '@airlock/sealing';
import { LeaseRefusedError } from '../errors';
import { LocalKeyEncryptionKeys } from '../keys/local-key-encryption-keys';
import { SecretCipher } from '../keys/secret-cipher';
import type { VaultAudit } from '../publishing/vault-audit.service';
import { ConnectionEntity } from '../registry/connection.entity';
import type { ConnectionWithSecret, RegistryRepository } from '../registry/registry.repository';
import { SecretEntity } from '../registry/secret.entity';
import { leaseAssociatedData } from '@airlock/sealing';
import { LeaseService, leaseExpiry } from './lease.service';

const CANARY = 'canary-lease-0d4f7a';
const NOW = Date.UTC(2026, 10, 25, 8, 0, 0);

describe('leases', () => {
  // The services log as they work; the assertions say what matters.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

  const cipher = new SecretCipher(
    new LocalKeyEncryptionKeys('VAULT_KEK', 'local-1', new Map([['local-1', randomBytes(32)]])),
  );
  const ingress = generateSealingKeyPair();
  let rows: Map<string, ConnectionWithSecret>;
  let audited: AuditEventDraft[];
  let auditFails: boolean;
  let now: number;

  const registry = {
    withCurrentSecret: async (name: string) => rows.get(name) ?? null,
  } as unknown as RegistryRepository;
  const audit = {
    emit: async (...drafts: AuditEventDraft[]) => {
      if (auditFails) throw new MessagingError('broker', 'audit events could not be published');
      audited.push(...drafts);
      return [];
    },
  } as unknown as VaultAudit;
  const service = new LeaseService(registry, cipher, audit, { VAULT_LEASE_TTL_SECONDS: 300 }, () => now);

  const connection = Object.assign(new ConnectionEntity(), {
    name: 'billing-api',
    protocol: 'http',
    upstream: 'https://billing.internal/api',
    credentialKind: 'bearer',
    agentCredentialHeaders: ['authorization', 'x-api-key'],
    createdAt: new Date(NOW),
    createdBy: { issuer: 'https://idp', subject: 'admin' },
  });

  async function store(version: number, token: string): Promise<void> {
    const stored = await cipher.encrypt({ kind: 'bearer', token }, { connection: 'billing-api', version });
    const secret = Object.assign(new SecretEntity(), { connection: 'billing-api', version, ...stored });
    rows.set('billing-api', { connection, secret });
  }

  function request(connectionName = 'billing-api', publicKey = ingress.publicKey): VaultLeaseRequest {
    return { requestId: uuidv7(), connection: connectionName, ingressInstance: 'ingress-a', publicKey };
  }

  beforeEach(() => {
    rows = new Map();
    audited = [];
    auditFails = false;
    now = NOW;
  });

  it('computes the expiry from the injected clock', () => {
    expect(leaseExpiry(NOW, 300).toISOString()).toBe('2026-11-25T08:05:00.000Z');
    expect(leaseExpiry(NOW, 5).getTime() - NOW).toBe(5000);
  });

  it('issues a lease sealed to the requesting ingress, expiring TTL after the clock', async () => {
    await store(2, CANARY);
    now = NOW + 42_000;
    const req = request();
    const reply = await service.issue(req);
    expect(VaultLeaseReplySchema.parse(reply)).toEqual(reply);
    expect(reply).toMatchObject({
      requestId: req.requestId,
      connection: 'billing-api',
      protocol: 'http',
      upstream: 'https://billing.internal/api',
      credentialKind: 'bearer',
      agentCredentialHeaders: ['authorization', 'x-api-key'],
      secretVersion: 2,
      expiresAt: new Date(NOW + 42_000 + 300_000).toISOString(),
    });
    const opened = JSON.parse(unseal(ingress.privateKey, reply.sealed, leaseAssociatedData(reply)).toString());
    expect(opened).toEqual({ kind: 'bearer', token: CANARY });
    const text = JSON.stringify(reply);
    expect(`${text}${CANARY}`).toContain(CANARY);
    expect(text).not.toContain(CANARY);
  });

  it('audits the lease without any secret material', async () => {
    await store(1, CANARY);
    const req = request();
    const reply = await service.issue(req);
    expect(audited).toEqual([
      expect.objectContaining({
        type: 'vault.lease_issued',
        requestId: req.requestId,
        connection: 'billing-api',
        source: 'credential-vault',
        data: { leaseId: reply.leaseId, secretVersion: 1, ingressInstance: 'ingress-a', expiresAt: reply.expiresAt },
      }),
    ]);
    expect(JSON.stringify(audited)).not.toContain(CANARY);
  });

  it('refuses with a safe message an unknown connection, one without a credential, and a bad public key', async () => {
    await expect(service.issue(request('nowhere'))).rejects.toThrow(
      new LeaseRefusedError('unknown connection "nowhere"'),
    );
    rows.set('billing-api', { connection, secret: null });
    await expect(service.issue(request())).rejects.toThrow('connection "billing-api" has no credential');
    await store(1, CANARY);
    const err = await service.issue(request('billing-api', 'AAAA')).catch((e: Error) => e);
    expect(err).toBeInstanceOf(LeaseRefusedError);
    expect((err as Error).message).toMatch(/^publicKey: recipient public key must be 32 bytes/);
    expect(audited).toEqual([]);
  });

  it('does not issue a lease whose audit event cannot be published', async () => {
    await store(1, CANARY);
    auditFails = true;
    await expect(service.issue(request())).rejects.toThrow(/could not be audited, so it was not issued/);
  });

  it('refuses, without saying why, a secret the vault cannot decrypt', async () => {
    await store(1, CANARY);
    const other = new LeaseService(
      registry,
      new SecretCipher(new LocalKeyEncryptionKeys('VAULT_KEK', 'local-1', new Map([['local-1', randomBytes(32)]]))),
      audit,
      { VAULT_LEASE_TTL_SECONDS: 300 },
      () => now,
    );
    await expect(other.issue(request())).rejects.toThrow(
      'the credential of connection "billing-api" cannot be read by the vault',
    );
  });
});
