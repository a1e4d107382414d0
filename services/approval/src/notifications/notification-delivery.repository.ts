import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Channel } from './channels';
import { NotificationDeliveryEntity, type DeliveryState } from './notification-delivery.entity';

export interface DeliveryOutcome {
  approvalId: string;
  channel: Channel;
  state: DeliveryState;
  attempts: number;
  reason: string | null;
  at: Date;
}

/** What the notification processor needs of the delivery records. */
export type DeliveryRecords = Pick<NotificationDeliveryRepository, 'find' | 'record' | 'markAudited'>;

/** The delivery records of notifications (`approval_notifications`). */
@Injectable()
export class NotificationDeliveryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  find(approvalId: string, channel: Channel): Promise<NotificationDeliveryEntity | null> {
    return this.db.getRepository(NotificationDeliveryEntity).findOneBy({ approvalId, channel });
  }

  /**
   * Stores an outcome, not yet audited. A delivered record is never replaced: true when this
   * call set the state, false when the notification had been delivered already.
   */
  async record(o: DeliveryOutcome): Promise<boolean> {
    const rows: Array<{ approval_id: string }> = await this.db.query(
      `INSERT INTO approval_notifications (approval_id, channel, state, attempts, reason, audited, updated_at)
       VALUES ($1, $2, $3, $4, $5, false, $6)
       ON CONFLICT (approval_id, channel) DO UPDATE
         SET state = EXCLUDED.state, attempts = EXCLUDED.attempts, reason = EXCLUDED.reason,
             audited = false, updated_at = EXCLUDED.updated_at
         WHERE approval_notifications.state <> 'delivered'
       RETURNING approval_id`,
      [o.approvalId, o.channel, o.state, o.attempts, o.reason, o.at],
    );
    return rows.length > 0;
  }

  /** The `approval.notified` event of this state is published. */
  async markAudited(approvalId: string, channel: Channel, state: DeliveryState): Promise<void> {
    await this.db.getRepository(NotificationDeliveryEntity).update({ approvalId, channel, state }, { audited: true });
  }

  /** Newest first. */
  withState(state: DeliveryState, limit: number): Promise<NotificationDeliveryEntity[]> {
    return this.db
      .getRepository(NotificationDeliveryEntity)
      .find({ where: { state }, order: { updatedAt: 'DESC' }, take: limit });
  }

  ofApproval(approvalId: string): Promise<NotificationDeliveryEntity[]> {
    return this.db.getRepository(NotificationDeliveryEntity).find({ where: { approvalId }, order: { channel: 'ASC' } });
  }

  /** Which of these (approval, channel) pairs have a record, as `notificationKey`s. */
  async recorded(pairs: ReadonlyArray<{ approvalId: string; channel: Channel }>): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    const rows: Array<{ approval_id: string; channel: Channel }> = await this.db.query(
      `SELECT n.approval_id, n.channel
         FROM approval_notifications n
         JOIN unnest($1::uuid[], $2::text[]) AS p(approval_id, channel)
           ON p.approval_id = n.approval_id AND p.channel = n.channel`,
      [pairs.map((p) => p.approvalId), pairs.map((p) => p.channel)],
    );
    return new Set(rows.map((r) => notificationKey(r.approval_id, r.channel)));
  }
}

export function notificationKey(approvalId: string, channel: Channel): string {
  return `${approvalId}/${channel}`;
}
