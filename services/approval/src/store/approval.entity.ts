import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ApprovalState, Protocol } from '@airlock/contracts';

/**
 * One held operation waiting for, or decided by, people. The requester's groups are kept as they
 * were when it asked: they are what its audit events and notices show.
 */
@Entity({ name: 'approvals' })
export class ApprovalEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  state!: ApprovalState;

  @Column('text', { name: 'requester_issuer' })
  requesterIssuer!: string;

  @Column('text', { name: 'requester_subject' })
  requesterSubject!: string;

  @Column('text', { name: 'requester_groups', array: true })
  requesterGroups!: string[];

  @Column('text')
  connection!: string;

  @Column('text')
  protocol!: Protocol;

  /** The ingress's hash of the exact operation: reuse and grants never cover another one. */
  @Column('text')
  fingerprint!: string;

  @Column('uuid', { name: 'session_id' })
  sessionId!: string;

  @Column('uuid', { name: 'request_id' })
  requestId!: string;

  @Column('text', { name: 'rule_id', nullable: true })
  ruleId!: string | null;

  @Column('text')
  reason!: string;

  /** The statement or HTTP request approvers are shown; agent data, so never on the audit stream. */
  @Column('text')
  detail!: string;

  @Column('text', { name: 'approver_groups', array: true })
  approverGroups!: string[];

  @Column('int')
  required!: number;

  /** 0: a one-time approval. */
  @Column('int', { name: 'grant_seconds' })
  grantSeconds!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'grant_until', nullable: true })
  grantUntil!: Date | null;

  /** When it left pending (approved, denied, expired, cancelled). */
  @Column('timestamptz', { name: 'decided_at', nullable: true })
  decidedAt!: Date | null;

  /** When a one-time approval let its operation run. */
  @Column('timestamptz', { name: 'used_at', nullable: true })
  usedAt!: Date | null;
}
