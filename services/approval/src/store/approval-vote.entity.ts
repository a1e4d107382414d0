import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { VoteVia } from '@airlock/contracts';

export type VoteDecision = 'approve' | 'deny';

/** One approver's yes or no on one approval, with the groups that entitled it at the time. */
@Entity({ name: 'approval_votes' })
export class ApprovalVoteEntity {
  @PrimaryColumn('uuid', { name: 'approval_id' })
  approvalId!: string;

  @PrimaryColumn('text', { name: 'approver_issuer' })
  approverIssuer!: string;

  @PrimaryColumn('text', { name: 'approver_subject' })
  approverSubject!: string;

  @PrimaryColumn('text')
  decision!: VoteDecision;

  @Column('text', { name: 'approver_groups', array: true })
  approverGroups!: string[];

  @Column('text', { nullable: true })
  comment!: string | null;

  @Column('text')
  via!: VoteVia;

  @Column('timestamptz', { name: 'decided_at' })
  decidedAt!: Date;
}
