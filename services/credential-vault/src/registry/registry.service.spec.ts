import { ConsoleLogger, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { AuditEventDraft, Principal } from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import { ConflictError, InvalidInputError, NotFoundError, UnavailableError } from '../errors';
import { LocalKeyEncryptionKeys } from '../keys/local-key-encryption-keys';
import { SecretCipher, type EncryptedSecret } from '../keys/secret-cipher';
import type { RotationPublisher } from '../publishing/rotation.publisher';
import type { VaultAudit } from '../publishing/vault-audit.service';
import type { ConnectionEntity } from './connection.entity';
import type { RegistryRepository } from './registry.repository';
import { RegistryService } from './registry.service';

const NOW = Date.UTC(2026, 10, 25, 8, 0, 0);
const admin: Principal = { issuer: 'https://idp.example', subject: 'admin-1', groups: ['airlock-admins'] };
const CANARY = 'canary-registry-6e03aa';

/**
 * An in-memory stand-in for the repository that keeps its transaction semantics: a change is
 * kept only if `beforeCommit` succeeds.
 */
class MemoryRegistry {
  readonly connections = new Map<string, ConnectionEntity>();
  readonly secrets: { connection: string; version: number; stored: EncryptedSecret }[] = [];

  async createConnection(c: ConnectionEntity, beforeCommit: () => Promise<void>): Promise<boolean> {
    if (this.connections.has(c.name)) return false;
    await beforeCommit();
    this.connections.set(c.name, c);
    return true;
  }

  async findConnection(name: string): Promise<ConnectionEntity | null> {
    return this.connections.get(name) ?? null;
  }

  async addSecretVersion(
    name: string,
    _meta: unknown,
    encrypt: (v: number) => Promise<EncryptedSecret>,
    beforeCommit: (v: number, s: EncryptedSecret) => Promise<void>,
  ): Promise<number | null> {
    if (!this.connections.has(name)) return null;
    const version = this.secrets.filter((s) => s.connection === name).length + 1;
    const stored = await encrypt(version);
    await beforeCommit(version, stored);
    this.secrets.push({ connection: name, version, stored });
    return version;
  }
}

describe('the registry', () => {
  // The services log as they work; the assertions say what matters.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

  let repo: MemoryRegistry;
  let audited: AuditEventDraft[];
  let rotated: { connection: string; version: number }[];
  let auditFails: boolean;
  let rotationFails: boolean;
  let service: RegistryService;
  const cipher = new SecretCipher(
    new LocalKeyEncryptionKeys('VAULT_KEK', 'local-1', new Map([['local-1', randomBytes(32)]])),
  );

  beforeEach(() => {
    repo = new MemoryRegistry();
    audited = [];
    rotated = [];
    auditFails = false;
    rotationFails = false;
    const audit = {
      emit: async (...drafts: AuditEventDraft[]) => {
        if (auditFails) throw new MessagingError('broker', 'audit events could not be published');
        audited.push(...drafts);
        return [];
      },
    } as unknown as VaultAudit;
    const rotation = {
      rotated: async (connection: string, version: number) => {
        if (rotationFails) throw new MessagingError('broker', 'rotation event could not be published');
        rotated.push({ connection, version });
      },
    } as unknown as RotationPublisher;
    service = new RegistryService(repo as unknown as RegistryRepository, cipher, audit, rotation, () => NOW);
  });

  const input = {
    name: 'billing-api',
    protocol: 'http' as const,
    upstream: 'https://billing.internal',
    credentialKind: 'bearer' as const,
  };

  it('creates a connection with the default credential headers, audited with its admin', async () => {
    const view = await service.create(input, admin);
    expect(view).toEqual({
      ...input,
      agentCredentialHeaders: ['authorization'],
      secretVersion: null,
      secretSetAt: null,
      secretSetBy: null,
      createdAt: new Date(NOW).toISOString(),
      createdBy: { issuer: admin.issuer, subject: admin.subject },
    });
    expect(audited).toEqual([
      expect.objectContaining({
        type: 'vault.connection_created',
        actor: admin,
        connection: 'billing-api',
        protocol: 'http',
      }),
    ]);
    await expect(service.create(input, admin)).rejects.toThrow(ConflictError);
  });

  it('makes no change whose audit event cannot be published', async () => {
    auditFails = true;
    const err = await service.create(input, admin).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).code).toBe('audit_unavailable');
    expect(repo.connections.size).toBe(0);
    auditFails = false;
    await service.create(input, admin);
    auditFails = true;
    await expect(service.setSecret('billing-api', { token: CANARY }, admin)).rejects.toThrow(
      'the change was not made: its audit event could not be published',
    );
    expect(repo.secrets).toHaveLength(0);
    expect(rotated).toEqual([]);
  });

  it('stores each secret as a new version, audits it as a rotation after the first, and announces it', async () => {
    await service.create(input, admin);
    await expect(service.setSecret('billing-api', { token: CANARY }, admin)).resolves.toEqual({
      connection: 'billing-api',
      secretVersion: 1,
    });
    await expect(service.setSecret('billing-api', { token: `${CANARY}-2` }, admin)).resolves.toEqual({
      connection: 'billing-api',
      secretVersion: 2,
    });
    expect(
      audited.filter((e) => e.type === 'vault.secret_set').map((e) => (e.type === 'vault.secret_set' ? e.data : null)),
    ).toEqual([
      { secretVersion: 1, keyId: 'local-1', rotation: false },
      { secretVersion: 2, keyId: 'local-1', rotation: true },
    ]);
    expect(rotated).toEqual([
      { connection: 'billing-api', version: 1 },
      { connection: 'billing-api', version: 2 },
    ]);
    expect(JSON.stringify(audited)).not.toContain(CANARY);
    await expect(cipher.decrypt(repo.secrets[1].stored, { connection: 'billing-api', version: 2 })).resolves.toEqual({
      kind: 'bearer',
      token: `${CANARY}-2`,
    });
  });

  it('says so when a stored version could not be announced to the ingress instances', async () => {
    await service.create(input, admin);
    rotationFails = true;
    const err = await service.setSecret('billing-api', { token: CANARY }, admin).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).publicMessage).toMatch(/version 1 of connection "billing-api" is stored/);
    expect(repo.secrets).toHaveLength(1);
  });

  it('refuses an unknown connection and fields of another credential kind', async () => {
    await expect(service.setSecret('nowhere', { token: CANARY }, admin)).rejects.toThrow(NotFoundError);
    await service.create(input, admin);
    await expect(service.setSecret('billing-api', { username: 'u', password: CANARY }, admin)).rejects.toThrow(
      InvalidInputError,
    );
    expect(repo.secrets).toHaveLength(0);
  });
});
