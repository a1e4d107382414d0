import {
  OperationCompletedEventSchema,
  OperationDecidedEventSchema,
  OperationDeniedEventSchema,
  OperationFailedEventSchema,
  OperationInterceptedEventSchema,
  StatementCompletedEventSchema,
  StatementFailedEventSchema,
} from '@airlock/contracts';
import type { OperationSummary } from '@airlock/contracts';

const data = {
  intercepted: OperationInterceptedEventSchema.shape.data,
  decided: OperationDecidedEventSchema.shape.data,
  completed: OperationCompletedEventSchema.shape.data,
  denied: OperationDeniedEventSchema.shape.data,
  failed: OperationFailedEventSchema.shape.data,
  statementCompleted: StatementCompletedEventSchema.shape.data,
  statementFailed: StatementFailedEventSchema.shape.data,
};

function maskedSummary(masked: Record<string, number> | undefined): Pick<OperationSummary, 'masked' | 'maskedTotal'> {
  const m = masked ?? {};
  return { masked: m, maskedTotal: Object.values(m).reduce((a, b) => a + b, 0) };
}

/**
 * The gist of an operation event, from its own data only, so every event of a page can be read
 * on its own. Null for other event types, and for a stored event whose data does not match its
 * type's contract (it is still returned as stored, just without a summary).
 */
export function summarize(event: Record<string, unknown>): OperationSummary | null {
  switch (event.type) {
    case 'operation.intercepted': {
      const d = data.intercepted.safeParse(event.data);
      if (!d.success) return null;
      const op = d.data.operation;
      return op.kind === 'http' ? { method: op.method, path: op.path } : { sql: op.sql };
    }
    case 'operation.decided': {
      const d = data.decided.safeParse(event.data);
      if (!d.success) return null;
      return { decision: d.data.decision, reason: d.data.reason, ruleId: d.data.ruleId, maskingRules: d.data.masking };
    }
    case 'operation.completed': {
      const d = data.completed.safeParse(event.data);
      if (!d.success) return null;
      const op = d.data.operation;
      return {
        ...(op ? (op.kind === 'http' ? { method: op.method, path: op.path } : { sql: op.sql }) : {}),
        ...(d.data.decision
          ? { decision: d.data.decision.decision, reason: d.data.decision.reason, ruleId: d.data.decision.ruleId }
          : {}),
        status: d.data.status,
        durationMs: d.data.durationMs,
        upstreamMs: d.data.upstreamMs,
        bytesOut: d.data.bytesOut,
        ...maskedSummary(d.data.masked),
      };
    }
    case 'operation.denied': {
      const d = data.denied.safeParse(event.data);
      return d.success ? { reason: d.data.reason, ruleId: d.data.ruleId } : null;
    }
    case 'operation.failed': {
      const d = data.failed.safeParse(event.data);
      if (!d.success) return null;
      const op = d.data.operation;
      return {
        ...(op ? (op.kind === 'http' ? { method: op.method, path: op.path } : { sql: op.sql }) : {}),
        ...(d.data.decision ? { decision: d.data.decision.decision, ruleId: d.data.decision.ruleId } : {}),
        stage: d.data.stage,
        reason: d.data.reason,
        status: d.data.status,
      };
    }
    case 'statement.completed': {
      const d = data.statementCompleted.safeParse(event.data);
      if (!d.success) return null;
      return {
        ...(d.data.operation ? { sql: d.data.operation.sql } : {}),
        ...(d.data.decision
          ? { decision: d.data.decision.decision, reason: d.data.decision.reason, ruleId: d.data.decision.ruleId }
          : {}),
        command: d.data.command,
        rows: d.data.rows,
        rowsMasked: d.data.rowsMasked,
        sqlstate: d.data.sqlstate,
        durationMs: d.data.durationMs,
        ...maskedSummary(d.data.masked),
      };
    }
    case 'statement.failed': {
      const d = data.statementFailed.safeParse(event.data);
      return d.success ? { stage: d.data.stage, reason: d.data.reason, sqlstate: d.data.sqlstate } : null;
    }
    default:
      return null;
  }
}
