import type { Decision, PolicyDecision, PolicyEvaluateRequest, Principal } from '@airlock/contracts';
import { compilePathPattern } from './glob';
import type { PolicyDocument, PolicyRule } from './policy-document';

const STRICTNESS: Record<Decision, number> = { allow: 0, review: 1, deny: 2 };

interface CompiledRule {
  rule: PolicyRule;
  paths: RegExp[];
  methods: Set<string>;
}

/**
 * Evaluates requests against one policy document. Every matching rule counts and the strictest
 * effect wins (deny over review over allow); with no matching rule the answer is deny.
 */
export class PolicyEvaluator {
  private readonly compiled: CompiledRule[];

  constructor(readonly document: PolicyDocument) {
    this.compiled = document.rules.map((rule) => ({
      rule,
      paths: (rule.http?.paths ?? ['/**']).map(compilePathPattern),
      methods: new Set(rule.http?.methods ?? ['*']),
    }));
  }

  evaluate(req: PolicyEvaluateRequest): PolicyDecision {
    let winner: CompiledRule | undefined;
    for (const c of this.compiled) {
      if (!this.matches(c, req)) continue;
      if (!winner || STRICTNESS[c.rule.effect] > STRICTNESS[winner.rule.effect]) winner = c;
    }
    const base = { requestId: req.requestId, policyVersion: this.document.version };
    if (!winner) {
      const op = req.operation;
      return {
        ...base,
        decision: 'deny',
        reason: `no rule allows ${op.method} ${op.path} on connection ${req.connection}`,
        masking: [],
      };
    }
    const { rule } = winner;
    return {
      ...base,
      decision: rule.effect,
      reason: rule.description ? `${rule.id}: ${rule.description}` : `rule ${rule.id}`,
      ruleId: rule.id,
      masking: rule.effect === 'deny' ? [] : rule.masking,
    };
  }

  private matches(c: CompiledRule, req: PolicyEvaluateRequest): boolean {
    const { rule } = c;
    if (!rule.connections.includes('*') && !rule.connections.includes(req.connection)) return false;
    if (rule.principals && !rule.principals.some((m) => principalMatches(m, req.principal))) return false;
    if (req.operation.kind === 'http') {
      if (!c.methods.has('*') && !c.methods.has(req.operation.method)) return false;
      const path = req.operation.path.split('?')[0];
      if (!c.paths.some((p) => p.test(path))) return false;
    }
    return true;
  }
}

function principalMatches(m: NonNullable<PolicyRule['principals']>[number], p: Principal): boolean {
  if (m.issuer !== undefined && m.issuer !== p.issuer) return false;
  if (m.subjects && !m.subjects.includes(p.subject)) return false;
  if (m.groups && !m.groups.some((g) => p.groups.includes(g))) return false;
  return true;
}
