import { Inject, Injectable, Logger } from '@nestjs/common';
import { uuidv7, type Principal } from '@airlock/contracts';
import { CLOCK, type Clock } from '../clock';
import { AUDIT_SOURCE, VaultAudit } from '../publishing/vault-audit.service';
import { KEY_CHECK_VALUE, KEY_ENCRYPTION_KEYS, type KeyEncryptionKeys } from './key-encryption-keys';
import { KeysRepository } from './keys.repository';
import { SecretCipher } from './secret-cipher';

export interface RewrapSummary {
  toKeyId: string;
  /** Records moved off each old key id. */
  rewrapped: Record<string, number>;
  /** Records still under another key id afterwards (written by a vault on the old key meanwhile). */
  remaining: Record<string, number>;
}

/**
 * KEK rotation: every data key still wrapped by an old key-encryption key is wrapped again by
 * the current one, in one transaction; the data ciphertext stays as it is. One
 * `vault.key_rewrapped` audit event per old key id is published before the commit.
 */
@Injectable()
export class RewrapService {
  private readonly logger = new Logger(RewrapService.name);

  constructor(
    @Inject(KEY_ENCRYPTION_KEYS) private readonly keys: KeyEncryptionKeys,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repository: KeysRepository,
    private readonly cipher: SecretCipher,
    private readonly audit: VaultAudit,
  ) {}

  async rewrapAll(actor: Principal): Promise<RewrapSummary> {
    const toKeyId = this.keys.currentKeyId;
    const sessionId = uuidv7();
    const counts = await this.repository.rewrapAll(
      await this.keys.wrap(KEY_CHECK_VALUE),
      new Date(this.clock()),
      (dek) => this.cipher.rewrap(dek),
      async (moved) => {
        if (moved.size === 0) return;
        await this.audit.emit(
          ...[...moved].map(([fromKeyId, records]) => ({
            type: 'vault.key_rewrapped' as const,
            sessionId,
            requestId: uuidv7(),
            actor,
            connection: null,
            protocol: 'http' as const,
            source: AUDIT_SOURCE,
            data: { fromKeyId, toKeyId, records },
          })),
        );
      },
    );
    const remaining = [...(await this.repository.secretsPerKeyId())].filter(([keyId]) => keyId !== toKeyId);
    const summary = { toKeyId, rewrapped: Object.fromEntries(counts), remaining: Object.fromEntries(remaining) };
    this.logger.log(summary, 'data keys rewrapped');
    return summary;
  }
}

/** The one line the rewrap command prints. */
export function describeRewrap(s: RewrapSummary): string {
  const moved = Object.entries(s.rewrapped);
  const total = moved.reduce((n, [, c]) => n + c, 0);
  const from = moved.map(([k, c]) => `${c} from ${k}`).join(', ');
  const left = Object.entries(s.remaining);
  const tail =
    left.length === 0
      ? `no secret is under another key`
      : `still under other keys: ${left.map(([k, c]) => `${c} under ${k}`).join(', ')} (run again)`;
  return total === 0
    ? `rewrap: nothing to do, current key ${s.toKeyId}; ${tail}`
    : `rewrap: ${total} data ${total === 1 ? 'key' : 'keys'} rewrapped to ${s.toKeyId} (${from}); ${tail}`;
}
