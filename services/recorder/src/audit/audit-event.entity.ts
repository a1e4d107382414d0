import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One audit event as it arrived on `airlock.audit`, stored once (the event id is the key). */
@Entity({ name: 'audit_event' })
@Index('audit_event_session_time', ['sessionId', 'time'])
export class AuditEventEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  type!: string;

  @Column('int', { name: 'schema_version' })
  schemaVersion!: number;

  @Column('timestamptz')
  time!: Date;

  @Column('uuid', { name: 'session_id' })
  sessionId!: string;

  @Column('uuid', { name: 'request_id' })
  requestId!: string;

  @Column('text', { name: 'actor_issuer', nullable: true })
  actorIssuer!: string | null;

  @Column('text', { name: 'actor_subject', nullable: true })
  actorSubject!: string | null;

  @Column('text', { name: 'actor_groups', array: true, nullable: true })
  actorGroups!: string[] | null;

  @Column('text', { nullable: true })
  connection!: string | null;

  @Column('text')
  protocol!: string;

  @Column('text')
  source!: string;

  /** The whole event as received, for replay and export. */
  @Column('jsonb')
  event!: object;

  @Column('int', { name: 'kafka_partition' })
  kafkaPartition!: number;

  @Column('bigint', { name: 'kafka_offset' })
  kafkaOffset!: string;

  @Column('timestamptz', { name: 'recorded_at', default: () => 'now()' })
  recordedAt!: Date;
}
