import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A signed link that has been used: its id may never decide anything again. */
@Entity({ name: 'approval_link_uses' })
export class LinkUseEntity {
  @PrimaryColumn('text')
  jti!: string;

  @Column('uuid', { name: 'approval_id' })
  approvalId!: string;

  @Column('timestamptz', { name: 'used_at' })
  usedAt!: Date;
}
