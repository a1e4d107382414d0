import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Channel } from './channels';

export type DeliveryState = 'delivered' | 'failed';

/**
 * What became of the notification of one approval on one channel. Written only once the
 * channel has answered for good, and read before every send: a job that runs again after
 * Redis lost its completion does not notify twice.
 */
@Entity({ name: 'approval_notifications' })
export class NotificationDeliveryEntity {
  @PrimaryColumn('uuid', { name: 'approval_id' })
  approvalId!: string;

  @PrimaryColumn('text')
  channel!: Channel;

  @Column('text')
  state!: DeliveryState;

  /** Attempts made, the last one included (waits for a rate limit are not attempts). */
  @Column('int')
  attempts!: number;

  /** With failed: why, as the channel answered; never a webhook URL or a password. */
  @Column('text', { nullable: true })
  reason!: string | null;

  /** Whether `approval.notified` for this state is on Kafka; a retry publishes it if not. */
  @Column('boolean')
  audited!: boolean;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
