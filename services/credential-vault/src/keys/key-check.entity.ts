import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A known value wrapped by one key-encryption key: proves at boot that a configured key is the right one. */
@Entity({ name: 'vault_key_check' })
export class KeyCheckEntity {
  @PrimaryColumn('text', { name: 'key_id' })
  keyId!: string;

  @Column('bytea')
  wrapped!: Buffer;

  @Column('bytea')
  iv!: Buffer;

  @Column('bytea')
  tag!: Buffer;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
