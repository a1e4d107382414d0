import { z } from 'zod';
import { IdSchema } from './common';

/**
 * BullMQ queues and jobs of the approval service's notification workers. One job per approval
 * and channel, its id derived from both, so a notification is never queued (or sent) twice.
 */
export const Queues = {
  ApprovalNotifications: 'airlock-approval-notifications',
  ApprovalExpiry: 'airlock-approval-expiry',
} as const;

export const JobNames = {
  NotifySlack: 'notify-slack',
  NotifyEmail: 'notify-email',
  ExpireApproval: 'expire-approval',
} as const;

export const NotificationJobSchema = z.object({ approvalId: IdSchema });
export type NotificationJob = z.infer<typeof NotificationJobSchema>;

export const ExpiryJobSchema = z.object({ approvalId: IdSchema });
export type ExpiryJob = z.infer<typeof ExpiryJobSchema>;

/** Job data by job name, checked when a job is queued and when a worker takes it. */
export const JobContracts = {
  [JobNames.NotifySlack]: NotificationJobSchema,
  [JobNames.NotifyEmail]: NotificationJobSchema,
  [JobNames.ExpireApproval]: ExpiryJobSchema,
} as const;
export type JobOf<N extends keyof typeof JobContracts> = z.infer<(typeof JobContracts)[N]>;

/**
 * The one job id of a notification: per approval and channel. No ':' in it: BullMQ refuses
 * custom job ids with one (its Redis keys are joined with ':').
 */
export function notificationJobId(approvalId: string, channel: 'slack' | 'email'): string {
  return `${approvalId}.${channel}`;
}
