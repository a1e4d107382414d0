import type { AuditEventDraft } from '@airlock/contracts';
import { counter, gauge, histogram } from '@airlock/observability';

/*
 * The ingress's series. Every operation, whatever its protocol, ends in exactly one outcome
 * event (operation.completed, .denied, .failed; statement.completed, .failed) built in
 * operation/operation-audit.ts: they are counted from those events as they are handed to the
 * audit publisher, so no adapter counts anything by itself. Counting an operation is a few map
 * reads and additions (see libs/observability's series).
 */

const OPERATION_LABELS = ['protocol', 'connection', 'decision', 'outcome'] as const;
const operations = counter({
  name: 'airlock_ingress_operations_total',
  help:
    'Operations by protocol (http, postgres, mcp), connection, decision (allow, deny, review, none: refused ' +
    'before policy decided, or failed after a decision not carried by the outcome) and outcome (completed, denied, failed).',
  labelNames: OPERATION_LABELS,
});

const FAILURE_LABELS = ['protocol', 'stage'] as const;
const failures = counter({
  name: 'airlock_ingress_operation_failures_total',
  help: 'Operations that failed, by protocol and stage (routing, policy, upstream, masking, audit, vault, approval, internal).',
  labelNames: FAILURE_LABELS,
});

const LATENCY_LABELS = ['protocol', 'connection'] as const;
const total = histogram({
  name: 'airlock_ingress_operation_duration_seconds',
  help: 'Completed operations, from the request reaching the gateway to the last byte sent to the agent.',
  labelNames: LATENCY_LABELS,
});
const upstream = histogram({
  name: 'airlock_ingress_upstream_duration_seconds',
  help:
    'Completed operations: time the upstream took (HTTP: until it answered; PostgreSQL: from the statement leaving ' +
    "the gateway to the server's end of it reaching the gateway).",
  labelNames: LATENCY_LABELS,
});
const added = histogram({
  name: 'airlock_ingress_gateway_duration_seconds',
  help: 'Completed operations: the time the gateway added (whole operation less the upstream time).',
  labelNames: LATENCY_LABELS,
});

const masked = counter({
  name: 'airlock_ingress_masked_values_total',
  help: 'Values masked in responses, by masking rule (counts only).',
  labelNames: ['rule'],
});

const DECISION_LABELS = ['effect', 'cache'] as const;
const decisions = counter({
  name: 'airlock_ingress_decisions_total',
  help: 'Policy decisions the ingress acted on, by effect (allow, deny, review) and whether its cache answered (hit, miss).',
  labelNames: DECISION_LABELS,
});

/** A decision taken from the ingress's cache (hit) or asked of the policy service (miss). */
export function countDecision(effect: string, cached: boolean): void {
  decisions.labels(effect, cached ? 'hit' : 'miss').inc();
}

const sessions = gauge({
  name: 'airlock_ingress_pg_sessions_open',
  help: 'PostgreSQL sessions open through the gateway (wire protocol and MCP tool sessions), by connection.',
  labelNames: ['connection'],
});

/** A PostgreSQL session on `connection` opened (+1) or closed (-1). */
function countPgSession(connection: string, delta: 1 | -1): void {
  sessions.labels(connection).inc(delta);
}

export const auditUnacknowledged = gauge({
  name: 'airlock_ingress_audit_unacknowledged_events',
  help: 'Audit events published after their answer went out that the broker has not acknowledged yet.',
});

function countMasked(counts: Record<string, number> | undefined): void {
  if (counts === undefined) return;
  for (const rule in counts) masked.labels(rule).inc(counts[rule]);
}

/**
 * Counts the outcome events among drafts on their way to the audit publisher, and sessions by
 * their session.started and session.ended events; others are ignored.
 */
export function countOutcomes(drafts: AuditEventDraft[]): void {
  for (const d of drafts) {
    const connection = d.connection ?? 'none';
    switch (d.type) {
      case 'operation.completed': {
        const { data } = d;
        operations.labels(d.protocol, connection, data.decision?.decision ?? 'allow', 'completed').inc();
        total.labels(d.protocol, connection).observe(data.durationMs / 1000);
        upstream.labels(d.protocol, connection).observe(data.upstreamMs / 1000);
        added.labels(d.protocol, connection).observe(Math.max(0, data.durationMs - data.upstreamMs) / 1000);
        countMasked(data.masked);
        break;
      }
      case 'statement.completed': {
        const { data } = d;
        operations.labels(d.protocol, connection, data.decision?.decision ?? 'allow', 'completed').inc();
        total.labels(d.protocol, connection).observe(data.durationMs / 1000);
        if (data.upstreamMs !== undefined) {
          upstream.labels(d.protocol, connection).observe(data.upstreamMs / 1000);
          added.labels(d.protocol, connection).observe(Math.max(0, data.durationMs - data.upstreamMs) / 1000);
        }
        countMasked(data.masked);
        break;
      }
      case 'operation.denied':
        operations.labels(d.protocol, connection, d.data.approvalId ? 'review' : 'deny', 'denied').inc();
        break;
      case 'operation.failed':
      case 'statement.failed':
        operations.labels(d.protocol, connection, d.data.decision?.decision ?? 'none', 'failed').inc();
        failures.labels(d.protocol, d.data.stage).inc();
        break;
      case 'session.started':
        countPgSession(connection, 1);
        break;
      case 'session.ended':
        countPgSession(connection, -1);
        break;
      default:
        break;
    }
  }
}
