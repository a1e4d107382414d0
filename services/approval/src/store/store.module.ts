import { Module } from '@nestjs/common';
import { NOTICE_SOURCE } from '../notifications/notice';
import { ApprovalNotices } from './approval-notices';
import { ApprovalRepository } from './approval.repository';
import { LinkTokens } from './link-tokens';

/** The approval store, the signed links into it, and the notices the notification workers read. */
@Module({
  providers: [ApprovalRepository, LinkTokens, { provide: NOTICE_SOURCE, useClass: ApprovalNotices }],
  exports: [ApprovalRepository, LinkTokens, NOTICE_SOURCE],
})
export class StoreModule {}
