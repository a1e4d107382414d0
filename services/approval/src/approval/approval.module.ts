import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module';
import { PublishingModule } from '../publishing/publishing.module';
import { StoreModule } from '../store/store.module';
import { ApprovalHandler } from './approval.handler';
import { ApprovalService } from './approval.service';
import { ApprovalStatusService } from './approval-status';
import { ApprovalsController } from './approvals.controller';
import { ApproverService } from './approver.service';
import { ApprovalOpenApiController } from './openapi';
import { ExpiryQueue, ExpiryWorker } from './expiry';
import { Transitions } from './transitions';

/** The approval workflow: requests, status questions and cancels over Kafka, decisions over HTTP, expiry on time. */
@Module({
  imports: [StoreModule, NotificationsModule, PublishingModule],
  controllers: [ApprovalHandler, ApprovalOpenApiController, ApprovalsController],
  providers: [ApprovalService, ApprovalStatusService, ApproverService, Transitions, ExpiryQueue, ExpiryWorker],
})
export class ApprovalModule {}
