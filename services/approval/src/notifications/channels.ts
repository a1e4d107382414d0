import { JobNames } from '@airlock/contracts';
import type { ApprovalConfig } from '../config';

/** Where a notification goes; the `channel` of `approval.notified` and of a delivery record. */
export type Channel = 'slack' | 'email';

export type NotificationJobName = typeof JobNames.NotifySlack | typeof JobNames.NotifyEmail;

export const JOB_OF_CHANNEL: Readonly<Record<Channel, NotificationJobName>> = {
  slack: JobNames.NotifySlack,
  email: JobNames.NotifyEmail,
};

export function channelOfJob(name: string): Channel | null {
  if (name === JobNames.NotifySlack) return 'slack';
  if (name === JobNames.NotifyEmail) return 'email';
  return null;
}

/** What the notification queue and workers read from the service's configuration. */
export type NotificationSettings = Pick<
  ApprovalConfig,
  | 'REDIS_URL'
  | 'SLACK_WEBHOOK_URL'
  | 'SMTP_URL'
  | 'EMAIL_FROM'
  | 'EMAIL_TO'
  | 'NOTIFY_ATTEMPTS'
  | 'NOTIFY_BACKOFF_MS'
  | 'NOTIFY_TIMEOUT_MS'
  | 'NOTIFY_MAX_PER_SECOND'
  | 'APPROVAL_QUEUE_PREFIX'
>;

/** Slack when a webhook is set; e-mail when an SMTP server and at least one recipient are. */
export function configuredChannels(
  s: Pick<NotificationSettings, 'SLACK_WEBHOOK_URL' | 'SMTP_URL' | 'EMAIL_TO'>,
): Channel[] {
  const channels: Channel[] = [];
  if (s.SLACK_WEBHOOK_URL) channels.push('slack');
  if (s.SMTP_URL && s.EMAIL_TO.length > 0) channels.push('email');
  return channels;
}
