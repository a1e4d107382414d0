import { Inject, Injectable, Logger } from '@nestjs/common';
import { uuidv7, type ConnectionView, type Principal } from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import { CLOCK, type Clock } from '../clock';
import { ConflictError, NotFoundError, UnavailableError } from '../errors';
import { SecretCipher } from '../keys/secret-cipher';
import { RotationPublisher } from '../publishing/rotation.publisher';
import { AUDIT_SOURCE, VaultAudit } from '../publishing/vault-audit.service';
import { ConnectionEntity, storedActor } from './connection.entity';
import { DEFAULT_AGENT_CREDENTIAL_HEADERS, type CreateConnection } from './dto/connection.dto';
import { parseSecretFields } from './dto/secret.dto';
import { RegistryRepository, type ConnectionSummary } from './registry.repository';

export interface SecretVersionView {
  connection: string;
  secretVersion: number;
}

/**
 * Connections and their secrets. Every change is audited before it commits (no audit, no
 * change); a new secret version is announced on `airlock.vault.rotated` after it commits.
 * Secrets go in and are never given back out.
 */
@Injectable()
export class RegistryService {
  private readonly logger = new Logger(RegistryService.name);

  constructor(
    private readonly repository: RegistryRepository,
    private readonly cipher: SecretCipher,
    private readonly audit: VaultAudit,
    private readonly rotation: RotationPublisher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async create(input: CreateConnection, admin: Principal): Promise<ConnectionView> {
    const connection = Object.assign(new ConnectionEntity(), {
      name: input.name,
      protocol: input.protocol,
      upstream: input.upstream,
      credentialKind: input.credentialKind,
      agentCredentialHeaders: input.agentCredentialHeaders ?? DEFAULT_AGENT_CREDENTIAL_HEADERS,
      createdAt: new Date(this.clock()),
      createdBy: storedActor(admin),
    });
    const created = await this.repository
      .createConnection(connection, async () => {
        await this.audit.emit({
          type: 'vault.connection_created',
          ...this.adminEnvelope(admin, connection.name),
          data: {
            protocol: connection.protocol,
            upstream: connection.upstream,
            credentialKind: connection.credentialKind,
          },
        });
      })
      .catch(auditUnavailable);
    if (!created) throw new ConflictError(`connection "${input.name}" already exists`);
    this.logger.log({ connection: connection.name, by: connection.createdBy }, 'connection created');
    return toView({ connection, secretVersion: null, secretSetAt: null, secretSetBy: null });
  }

  async list(): Promise<ConnectionView[]> {
    return (await this.repository.summaries()).map(toView);
  }

  async get(name: string): Promise<ConnectionView> {
    const summary = await this.repository.summary(name);
    if (!summary) throw unknownConnection(name);
    return toView(summary);
  }

  /** Stores a new version of the connection's secret: the first one, or a rotation. */
  async setSecret(name: string, body: unknown, admin: Principal): Promise<SecretVersionView> {
    const connection = await this.repository.findConnection(name);
    if (!connection) throw unknownConnection(name);
    const secret = parseSecretFields(connection.credentialKind, body);
    const version = await this.repository
      .addSecretVersion(
        name,
        { createdAt: new Date(this.clock()), createdBy: storedActor(admin) },
        (v) => this.cipher.encrypt(secret, { connection: name, version: v }),
        async (v, stored) => {
          await this.audit.emit({
            type: 'vault.secret_set',
            ...this.adminEnvelope(admin, name),
            data: { secretVersion: v, keyId: stored.keyId, rotation: v > 1 },
          });
        },
      )
      .catch(auditUnavailable);
    if (version === null) throw unknownConnection(name);
    this.logger.log({ connection: name, secretVersion: version, by: storedActor(admin) }, 'secret version stored');
    try {
      await this.rotation.rotated(name, version);
    } catch (err) {
      throw new UnavailableError(
        'rotation_unannounced',
        `secret version ${version} of connection "${name}" is stored, but ingress instances could not be told: ` +
          'they may use the previous version until their leases expire',
        { cause: err },
      );
    }
    return { connection: name, secretVersion: version };
  }

  private adminEnvelope(admin: Principal, connection: string) {
    return {
      sessionId: uuidv7(),
      requestId: uuidv7(),
      actor: admin,
      connection,
      protocol: 'http' as const,
      source: AUDIT_SOURCE,
    };
  }
}

function unknownConnection(name: string): NotFoundError {
  return new NotFoundError(`unknown connection "${name}"`);
}

/** A change whose audit event could not be published was rolled back: say so. */
function auditUnavailable(err: unknown): never {
  if (err instanceof MessagingError) {
    throw new UnavailableError('audit_unavailable', 'the change was not made: its audit event could not be published', {
      cause: err,
    });
  }
  throw err;
}

function toView(s: ConnectionSummary): ConnectionView {
  const c = s.connection;
  return {
    name: c.name,
    protocol: c.protocol,
    upstream: c.upstream,
    credentialKind: c.credentialKind,
    agentCredentialHeaders: c.agentCredentialHeaders,
    secretVersion: s.secretVersion,
    secretSetAt: s.secretSetAt?.toISOString() ?? null,
    secretSetBy: s.secretSetBy,
    createdAt: c.createdAt.toISOString(),
    createdBy: c.createdBy,
  };
}
