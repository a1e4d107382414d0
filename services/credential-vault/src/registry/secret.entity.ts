import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { StoredActor } from './connection.entity';

/**
 * One version of a connection's credential, envelope-encrypted: only ciphertext and a wrapped
 * data key are stored. The current secret is the highest version.
 */
@Entity({ name: 'vault_secret' })
export class SecretEntity {
  @PrimaryColumn('text')
  connection!: string;

  @PrimaryColumn('int')
  version!: number;

  /** The key-encryption key that wrapped `wrappedDek`. */
  @Column('text', { name: 'key_id' })
  keyId!: string;

  @Column('bytea', { name: 'wrapped_dek' })
  wrappedDek!: Buffer;

  @Column('bytea', { name: 'dek_iv' })
  dekIv!: Buffer;

  @Column('bytea', { name: 'dek_tag' })
  dekTag!: Buffer;

  @Column('bytea')
  iv!: Buffer;

  @Column('bytea')
  ciphertext!: Buffer;

  @Column('bytea')
  tag!: Buffer;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('jsonb', { name: 'created_by' })
  createdBy!: StoredActor;
}
