import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { SecretEntity } from '../registry/secret.entity';
import type { WrappedKey } from './key-encryption-keys';
import { KeyCheckEntity } from './key-check.entity';

/** The wrapped data key of one stored secret, as the rewrap command reads and replaces it. */
export interface StoredDek {
  connection: string;
  version: number;
  keyId: string;
  wrappedDek: Buffer;
  dekIv: Buffer;
  dekTag: Buffer;
}

/** What a rewrap changed: records moved off each old key id. */
export type RewrapCounts = Map<string, number>;

/** The key side of the store: key check rows, and the wrapped data keys of `vault_secret` (never its data). */
@Injectable()
export class KeysRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  keyChecks(): Promise<KeyCheckEntity[]> {
    return this.db.getRepository(KeyCheckEntity).find({ order: { keyId: 'ASC' } });
  }

  /** Stored secrets per key id. */
  async secretsPerKeyId(): Promise<Map<string, number>> {
    const rows: { key_id: string; n: string }[] = await this.db
      .getRepository(SecretEntity)
      .createQueryBuilder('s')
      .select('s.key_id', 'key_id')
      .addSelect('count(*)', 'n')
      .groupBy('s.key_id')
      .getRawMany();
    return new Map(rows.map((r) => [r.key_id, Number(r.n)]));
  }

  /** Inserts the key's check row unless one exists (another instance may race us to it). */
  async addKeyCheck(check: WrappedKey, now: Date): Promise<void> {
    await this.db
      .getRepository(KeyCheckEntity)
      .createQueryBuilder()
      .insert()
      .values({ keyId: check.keyId, wrapped: check.wrapped, iv: check.iv, tag: check.tag, createdAt: now })
      .orIgnore()
      .execute();
  }

  /**
   * Replaces, in one transaction, the wrapped data key of every secret not yet under `toKeyId`,
   * after writing that key's check row. The rows read are locked until commit; `beforeCommit`
   * (the audit) failing rolls everything back. A secret that a vault still on the old key writes
   * meanwhile is not seen: the caller counts what is left afterwards.
   */
  async rewrapAll(
    toKeyCheck: WrappedKey,
    now: Date,
    rewrap: (dek: StoredDek) => Promise<WrappedKey>,
    beforeCommit: (counts: RewrapCounts) => Promise<void>,
  ): Promise<RewrapCounts> {
    return this.db.transaction(async (m) => {
      await m
        .getRepository(KeyCheckEntity)
        .createQueryBuilder()
        .insert()
        .values({
          keyId: toKeyCheck.keyId,
          wrapped: toKeyCheck.wrapped,
          iv: toKeyCheck.iv,
          tag: toKeyCheck.tag,
          createdAt: now,
        })
        .orIgnore()
        .execute();
      const secrets = m.getRepository(SecretEntity);
      const stale: StoredDek[] = await secrets
        .createQueryBuilder('s')
        .select(['s.connection', 's.version', 's.keyId', 's.wrappedDek', 's.dekIv', 's.dekTag'])
        .where('s.key_id <> :toKeyId', { toKeyId: toKeyCheck.keyId })
        .orderBy('s.connection')
        .addOrderBy('s.version')
        .setLock('pessimistic_write')
        .getMany();
      const counts: RewrapCounts = new Map();
      for (const dek of stale) {
        const next = await rewrap(dek);
        await secrets.update(
          { connection: dek.connection, version: dek.version },
          { keyId: next.keyId, wrappedDek: next.wrapped, dekIv: next.iv, dekTag: next.tag },
        );
        counts.set(dek.keyId, (counts.get(dek.keyId) ?? 0) + 1);
      }
      await beforeCommit(counts);
      return counts;
    });
  }
}
