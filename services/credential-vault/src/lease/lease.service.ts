import { Inject, Injectable, Logger } from '@nestjs/common';
import { uuidv7, type VaultLeaseReply, type VaultLeaseRequest } from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import { SealingError, leaseAssociatedData, seal, type LeaseBinding } from '@airlock/sealing';
import { CLOCK, type Clock } from '../clock';
import { VAULT_CONFIG, type VaultConfig } from '../config';
import { LeaseRefusedError } from '../errors';
import { KeyUnavailableError } from '../keys/key-encryption-keys';
import { SecretCipher, SecretUnreadableError } from '../keys/secret-cipher';
import { AUDIT_SOURCE, VaultAudit } from '../publishing/vault-audit.service';
import { RegistryRepository } from '../registry/registry.repository';
import type { SecretEntity } from '../registry/secret.entity';
import { leasesIssued } from '../vault-metrics';

/** When a lease issued at `issuedAtMs` stops being valid. */
export function leaseExpiry(issuedAtMs: number, ttlSeconds: number): Date {
  return new Date(issuedAtMs + ttlSeconds * 1000);
}

/** The associated data a lease secret is sealed with: the ingress opens it with the reply's own fields. */

/**
 * Issues leases: the connection's current secret, decrypted only here and at once sealed to the
 * requesting ingress instance's public key. The vault keeps no lease state; a lease ends when
 * it expires or when `airlock.vault.rotated` tells the ingress to drop it.
 */
@Injectable()
export class LeaseService {
  private readonly logger = new Logger(LeaseService.name);

  constructor(
    private readonly registry: RegistryRepository,
    private readonly cipher: SecretCipher,
    private readonly audit: VaultAudit,
    @Inject(VAULT_CONFIG) private readonly config: Pick<VaultConfig, 'VAULT_LEASE_TTL_SECONDS'>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async issue(request: VaultLeaseRequest): Promise<VaultLeaseReply> {
    const name = request.connection;
    const found = await this.registry.withCurrentSecret(name);
    if (!found) throw new LeaseRefusedError(`unknown connection "${name}"`);
    const { connection, secret } = found;
    if (!secret) throw new LeaseRefusedError(`connection "${name}" has no credential`);

    const now = this.clock();
    const leaseId = uuidv7(now);
    const expiresAt = leaseExpiry(now, this.config.VAULT_LEASE_TTL_SECONDS).toISOString();
    const binding: LeaseBinding = {
      requestId: request.requestId,
      leaseId,
      connection: name,
      protocol: connection.protocol,
      upstream: connection.upstream,
      credentialKind: connection.credentialKind,
      agentCredentialHeaders: connection.agentCredentialHeaders,
      expiresAt,
      secretVersion: secret.version,
    };
    const plaintext = await this.plaintextOf(secret);
    let sealed: VaultLeaseReply['sealed'];
    try {
      sealed = seal(request.publicKey, plaintext, leaseAssociatedData(binding));
    } catch (err) {
      if (err instanceof SealingError) throw new LeaseRefusedError(`publicKey: ${err.message}`);
      throw err;
    } finally {
      plaintext.fill(0);
    }

    // Fail closed: a lease whose issue is not on the audit trail is not handed out.
    await this.audit
      .emit({
        type: 'vault.lease_issued',
        sessionId: uuidv7(now),
        requestId: request.requestId,
        // The ingress is not an authenticated principal of the vault; `ingressInstance` names it.
        actor: null,
        connection: name,
        protocol: connection.protocol,
        source: AUDIT_SOURCE,
        data: { leaseId, secretVersion: secret.version, ingressInstance: request.ingressInstance, expiresAt },
      })
      .catch((err: unknown) => {
        if (err instanceof MessagingError) {
          throw new LeaseRefusedError('the lease could not be audited, so it was not issued', { cause: err });
        }
        throw err;
      });
    leasesIssued.labels(name).inc();
    return { ...binding, sealed };
  }

  private async plaintextOf(secret: SecretEntity): Promise<Buffer> {
    try {
      const lease = await this.cipher.decrypt(secret, { connection: secret.connection, version: secret.version });
      return Buffer.from(JSON.stringify(lease), 'utf8');
    } catch (err) {
      if (err instanceof KeyUnavailableError || err instanceof SecretUnreadableError) {
        this.logger.error({ err: err.message }, 'a stored secret cannot be decrypted');
        throw new LeaseRefusedError(`the credential of connection "${secret.connection}" cannot be read by the vault`, {
          cause: err,
        });
      }
      throw err;
    }
  }
}
