import { counter, histogram } from '@airlock/observability';

const transitions = counter({
  name: 'airlock_approval_transitions_total',
  help: 'Approvals entering a state (pending, approved, denied, expired, cancelled, used), counted when the move is audited.',
  labelNames: ['state'],
});

const decisionSeconds = histogram({
  name: 'airlock_approval_decision_seconds',
  help: 'From the creation of an approval to its outcome (approved, denied, expired, cancelled), by outcome.',
  labelNames: ['state'],
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 86400],
});

const NOTIFICATION_LABELS = ['channel', 'outcome'] as const;
const notifications = counter({
  name: 'airlock_approval_notifications_total',
  help:
    'Notification attempts by channel (slack, email) and outcome (delivered; skipped: delivered before or the ' +
    'approval no longer pending; rate_limited; retry: failed, tried again; failed: given up).',
  labelNames: NOTIFICATION_LABELS,
});

export function countTransition(state: string): void {
  transitions.labels(state).inc();
}

export function observeDecision(state: string, createdAt: Date, decidedAt: Date): void {
  decisionSeconds.labels(state).observe(Math.max(0, decidedAt.getTime() - createdAt.getTime()) / 1000);
}

export type NotificationOutcome = 'delivered' | 'skipped' | 'rate_limited' | 'retry' | 'failed';

export function countNotification(channel: string, outcome: NotificationOutcome): void {
  notifications.labels(channel, outcome).inc();
}
