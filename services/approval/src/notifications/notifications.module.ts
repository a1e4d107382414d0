import { Module } from '@nestjs/common';
import { ApprovalAudit } from '../publishing/approval-audit.service';
import { PublishingModule } from '../publishing/publishing.module';
import { StoreModule } from '../store/store.module';
import { CLOCK, type Clock } from '../clock';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';
import { NotificationsAdminGuard } from './admin.guard';
import { NotificationDeliveryRepository } from './notification-delivery.repository';
import { NotificationQueue } from './notification.queue';
import { NotificationWorkers } from './notification.worker';
import { NOTICE_SOURCE, type NoticeSource } from './notice';
import { NotificationsController } from './notifications.controller';
import { NotificationsService } from './notifications.service';

/**
 * Notifications of pending approvals to approvers (Slack, e-mail) through BullMQ: the queue
 * others add to, the workers (in processes with APPROVAL_WORKERS), the delivery records and
 * their admin API.
 */
@Module({
  imports: [StoreModule, PublishingModule],
  controllers: [NotificationsController],
  providers: [
    NotificationQueue,
    NotificationDeliveryRepository,
    NotificationsService,
    NotificationsAdminGuard,
    {
      provide: NotificationWorkers,
      inject: [APPROVAL_CONFIG, NOTICE_SOURCE, NotificationDeliveryRepository, ApprovalAudit, CLOCK],
      useFactory: (
        config: ApprovalConfig,
        notices: NoticeSource,
        deliveries: NotificationDeliveryRepository,
        audit: ApprovalAudit,
        clock: Clock,
      ): NotificationWorkers | null =>
        config.APPROVAL_WORKERS ? new NotificationWorkers(config, notices, deliveries, audit, clock) : null,
    },
  ],
  exports: [NotificationQueue],
})
export class NotificationsModule {}
