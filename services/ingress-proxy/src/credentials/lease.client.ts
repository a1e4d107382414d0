import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  LeaseSecretSchema,
  Topics,
  parseContract,
  uuidv7,
  type LeaseSecret,
  type VaultLeaseReply,
} from '@airlock/contracts';
import { generateSealingKeyPair, leaseAssociatedData, unseal } from '@airlock/sealing';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import { IngressRpc } from '../rpc/ingress-rpc';

/** A lease whose secret is open in this process's memory only. */
export interface ActiveLease {
  leaseId: string;
  connection: string;
  upstream: URL;
  agentCredentialHeaders: string[];
  secretVersion: number;
  expiresAt: number;
  secret: LeaseSecret;
}

export const CLOCK = Symbol('CLOCK');
export type Clock = () => number;

/**
 * Credential leases from the vault. The request carries this instance's X25519 public key;
 * the secret comes back sealed to it, so it is never readable on Kafka. A lease is reused until
 * shortly before it expires or until `airlock.vault.rotated` names its connection; an expired
 * lease is never used, whatever the cache holds.
 */
@Injectable()
export class LeaseClient {
  private readonly logger = new Logger(LeaseClient.name);
  private readonly keys = generateSealingKeyPair();
  private readonly leases = new Map<string, ActiveLease>();
  private readonly pending = new Map<string, Promise<ActiveLease>>();
  /** Bumped per connection on rotation, so a lease fetched across a rotation is not cached. */
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly rpc: IngressRpc,
    @Inject(INGRESS_CONFIG) private readonly config: IngressConfig,
    @Inject(CLOCK) private readonly now: Clock,
  ) {}

  /** Throws MessagingError when the vault refuses or does not answer: the caller fails closed. */
  async lease(connection: string): Promise<ActiveLease> {
    const cached = this.leases.get(connection);
    if (cached && this.usable(cached)) return cached;
    if (cached) this.leases.delete(connection);
    let p = this.pending.get(connection);
    if (!p) {
      p = this.fetch(connection).finally(() => this.pending.delete(connection));
      this.pending.set(connection, p);
    }
    return p;
  }

  /** `airlock.vault.rotated`: the next request fetches the new secret. */
  rotated(connection: string, secretVersion: number): void {
    this.generations.set(connection, (this.generations.get(connection) ?? 0) + 1);
    const held = this.leases.get(connection);
    this.leases.delete(connection);
    this.pending.delete(connection);
    this.logger.log({ connection, secretVersion, dropped: held?.leaseId }, 'credential rotated: cached lease dropped');
  }

  /** A lease is used only while it has at least the refresh margin left. */
  private usable(l: ActiveLease): boolean {
    return l.expiresAt - this.config.LEASE_REFRESH_MARGIN_MS > this.now();
  }

  private async fetch(connection: string): Promise<ActiveLease> {
    const generation = this.generations.get(connection) ?? 0;
    const reply: VaultLeaseReply = await this.rpc.request(
      Topics.VaultLease,
      connection,
      { requestId: uuidv7(), connection, ingressInstance: this.config.INSTANCE_ID!, publicKey: this.keys.publicKey },
      this.config.VAULT_TIMEOUT_MS,
    );
    if (reply.connection !== connection) throw new Error('the vault answered for another connection');
    // Opens only if no field of the reply was changed on its way (upstream, expiry, request...).
    const plaintext = unseal(this.keys.privateKey, reply.sealed, leaseAssociatedData(reply));
    const secret = parseContract('lease secret', LeaseSecretSchema, JSON.parse(plaintext.toString('utf8')));
    plaintext.fill(0);
    if (secret.kind !== reply.credentialKind) throw new Error('lease secret does not match the credential kind');
    const lease: ActiveLease = {
      leaseId: reply.leaseId,
      connection,
      upstream: new URL(reply.upstream),
      agentCredentialHeaders: reply.agentCredentialHeaders,
      secretVersion: reply.secretVersion,
      expiresAt: Date.parse(reply.expiresAt),
      secret,
    };
    if (!this.usable(lease)) throw new Error(`lease ${lease.leaseId} arrived already (nearly) expired`);
    if ((this.generations.get(connection) ?? 0) === generation) this.leases.set(connection, lease);
    this.logger.log(
      { connection, leaseId: lease.leaseId, secretVersion: lease.secretVersion, expiresAt: reply.expiresAt },
      'credential lease received',
    );
    return lease;
  }
}
