import type { PolicyDecision } from '@airlock/contracts';
import { counter, histogram } from '@airlock/observability';

const DECISION_LABELS = ['effect', 'rule'] as const;
const decisions = counter({
  name: 'airlock_policy_decisions_total',
  help: 'Decisions the policy service made, by effect (allow, deny, review) and rule id (default when no rule decided).',
  labelNames: DECISION_LABELS,
});

const evaluation = histogram({
  name: 'airlock_policy_evaluation_duration_seconds',
  help: 'Time to evaluate one request against the policy document.',
});

/** Evaluates with `evaluate` and counts the decision and the time it took. */
export function measuredDecision(evaluate: () => PolicyDecision): PolicyDecision {
  const started = performance.now();
  const decision = evaluate();
  evaluation.observe((performance.now() - started) / 1000);
  decisions.labels(decision.decision, decision.ruleId ?? 'default').inc();
  return decision;
}
