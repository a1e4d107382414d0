import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { ApprovalConfig } from './config';
import { CreateApprovalNotifications1765100000000 } from './migrations/1765100000000-create-approval-notifications';
import { CreateApprovals1796501681000 } from './migrations/1796501681000-create-approvals';
import { NotificationDeliveryEntity } from './notifications/notification-delivery.entity';
import { ApprovalVoteEntity } from './store/approval-vote.entity';
import { ApprovalEntity } from './store/approval.entity';
import { LinkUseEntity } from './store/link-use.entity';

export const APPROVAL_ENTITIES = [ApprovalEntity, ApprovalVoteEntity, LinkUseEntity, NotificationDeliveryEntity];
export const APPROVAL_MIGRATIONS = [CreateApprovals1796501681000, CreateApprovalNotifications1765100000000];

/** The approval store: migrations run at start, never synchronize. */
export function approvalDatabase(config: Pick<ApprovalConfig, 'DATABASE_URL'>): TypeOrmModuleOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    entities: APPROVAL_ENTITIES,
    migrations: APPROVAL_MIGRATIONS,
    migrationsRun: true,
    migrationsTableName: 'approval_migrations',
    synchronize: false,
    retryAttempts: 3,
    retryDelay: 1000,
  };
}
