import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConfigError } from '@airlock/runtime';
import { CLOCK, type Clock } from '../clock';
import { KEY_CHECK_VALUE, KEY_ENCRYPTION_KEYS, type KeyEncryptionKeys } from './key-encryption-keys';
import type { KeyCheckEntity } from './key-check.entity';
import { KeysRepository } from './keys.repository';

/** The configured keys do not open what the database holds: the vault must not start. */
export class KeyCheckFailedError extends ConfigError {
  override readonly name = 'KeyCheckFailedError';
}

export interface KeysInUse {
  keyChecks: Pick<KeyCheckEntity, 'keyId' | 'wrapped' | 'iv' | 'tag'>[];
  secretsPerKeyId: Map<string, number>;
}

/**
 * Finds what is wrong between the configured keys and the stored records: a key id that
 * protects secrets but is not configured, or a configured key that does not unwrap its check
 * value (another key under the same id). Empty when all is well.
 */
export async function keyProblems(keys: KeyEncryptionKeys, inUse: KeysInUse): Promise<string[]> {
  const problems: string[] = [];
  const configured = new Set(keys.keyIds);
  for (const [keyId, count] of inUse.secretsPerKeyId) {
    if (!configured.has(keyId)) {
      problems.push(`${keys.source} has no key ${keyId}, which protects ${count} stored ${plural(count, 'secret')}`);
    }
  }
  for (const check of inUse.keyChecks) {
    if (!configured.has(check.keyId)) continue;
    if (!(await opensCheck(keys, check))) {
      const count = inUse.secretsPerKeyId.get(check.keyId) ?? 0;
      problems.push(
        `${keys.source} does not match key id ${check.keyId} that protects ${count} stored ${plural(count, 'secret')}`,
      );
    }
  }
  return problems;
}

async function opensCheck(keys: KeyEncryptionKeys, check: KeysInUse['keyChecks'][number]): Promise<boolean> {
  try {
    const value = await keys.unwrap(check.keyId, check.wrapped, check.iv, check.tag);
    return value.length === KEY_CHECK_VALUE.length && timingSafeEqual(value, KEY_CHECK_VALUE);
  } catch {
    return false;
  }
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

/**
 * Runs before the vault answers anything: every key id that protects a stored secret must be
 * configured and open its check value, else start-up stops with a message naming the setting.
 * The current key gets its check row the first time it is seen.
 */
@Injectable()
export class KeyCheckService implements OnModuleInit {
  private readonly logger = new Logger(KeyCheckService.name);

  constructor(
    @Inject(KEY_ENCRYPTION_KEYS) private readonly keys: KeyEncryptionKeys,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repository: KeysRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.verify();
  }

  async verify(): Promise<void> {
    const inUse = await this.inUse();
    const problems = await keyProblems(this.keys, inUse);
    if (problems.length > 0) throw new KeyCheckFailedError(problems);
    if (!inUse.keyChecks.some((c) => c.keyId === this.keys.currentKeyId)) {
      await this.repository.addKeyCheck(await this.keys.wrap(KEY_CHECK_VALUE), new Date(this.clock()));
      // Another instance may have written its own first: check what is stored now.
      const again = await keyProblems(this.keys, await this.inUse());
      if (again.length > 0) throw new KeyCheckFailedError(again);
    }
    this.logger.log(
      {
        currentKeyId: this.keys.currentKeyId,
        keyIds: this.keys.keyIds,
        secretsPerKeyId: Object.fromEntries(inUse.secretsPerKeyId),
      },
      'key-encryption keys match the stored records',
    );
  }

  private async inUse(): Promise<KeysInUse> {
    const [keyChecks, secretsPerKeyId] = await Promise.all([
      this.repository.keyChecks(),
      this.repository.secretsPerKeyId(),
    ]);
    return { keyChecks, secretsPerKeyId };
  }
}
