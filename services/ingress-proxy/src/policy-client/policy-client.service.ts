import { Inject, Injectable, Logger } from '@nestjs/common';
import { Topics, type PolicyDecision, type PolicyEvaluateRequest, type PostgresOperation } from '@airlock/contracts';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import { countDecision } from '../metrics/ingress-metrics';
import { IngressRpc } from '../rpc/ingress-rpc';
import { DecisionCache } from './decision-cache';

export interface EvaluatedDecision {
  decision: PolicyDecision;
  cached: boolean;
}

/** Asks the policy service over Kafka, with a per-call deadline and a decision cache. */
@Injectable()
export class PolicyClient {
  private readonly logger = new Logger(PolicyClient.name);
  readonly cache: DecisionCache;

  constructor(
    private readonly client: IngressRpc,
    @Inject(INGRESS_CONFIG) private readonly config: IngressConfig,
  ) {
    this.cache = new DecisionCache(config.DECISION_CACHE_SIZE, config.DECISION_CACHE_TTL_MS);
  }

  /** A decision for this request from the cache alone, or undefined. */
  cached(req: PolicyEvaluateRequest): { decision: PolicyDecision } | undefined {
    const hit = this.cache.get(decisionKey(req));
    if (!hit) return undefined;
    countDecision(hit.decision, true);
    return { decision: { ...hit, requestId: req.requestId } };
  }

  /** Throws MessagingError when policy does not answer in time: the caller must refuse. */
  async evaluate(req: PolicyEvaluateRequest): Promise<EvaluatedDecision> {
    const key = decisionKey(req);
    const hit = this.cache.get(key);
    if (hit) {
      countDecision(hit.decision, true);
      return { decision: { ...hit, requestId: req.requestId }, cached: true };
    }
    const generation = this.cache.generation;
    const decision = await this.client.request(
      Topics.PolicyEvaluate,
      req.sessionId,
      req,
      this.config.POLICY_TIMEOUT_MS,
    );
    if (decision.requestId !== req.requestId) {
      throw new Error('policy answered a different request');
    }
    countDecision(decision.decision, false);
    // A decision that looked at bind parameter values or header values holds for those values only.
    if (!decision.dependsOnParams && !decision.dependsOnHeaders) this.cache.set(key, decision, generation);
    return { decision, cached: false };
  }

  policyChanged(version: string): void {
    this.cache.invalidate();
    this.logger.log({ version }, 'policy changed: cached decisions dropped');
  }
}

/**
 * The cache key of a decision: everything policy looks at. For SQL that is the classification
 * itself, not just the statement fingerprint: the fingerprint ignores constants, and a constant
 * can change what a statement is (`set_config('role', ...)` against `set_config('search_path', ...)`).
 * Whether bind parameters were sent is part of it too: a decision made without them says nothing
 * about parameter rules.
 */
export function decisionKey(req: PolicyEvaluateRequest): string {
  const p = req.principal;
  const op = req.operation;
  // A session start (connect) is decided on the principal and connection alone.
  const what =
    op.kind === 'connect'
      ? []
      : op.kind === 'http'
        ? [
            op.method,
            op.path,
            JSON.stringify(op.query ?? []),
            op.caseSensitive ? 'case' : 'nocase',
            op.s3 ? JSON.stringify(op.s3) : 'no-s3',
          ]
        : [
            op.fingerprint,
            op.parsed ? 'parsed' : 'unparsed',
            op.params ? 'params' : 'no-params',
            statementsKey(op.statements),
          ];
  return [p.issuer, p.subject, [...p.groups].sort().join(','), req.connection, req.protocol, op.kind, ...what].join(
    '\u0000',
  );
}

/** Classifications are shared objects (the classifier caches them): their key is made once. */
const statementKeys = new WeakMap<object, string>();

function statementsKey(statements: PostgresOperation['statements']): string {
  let key = statementKeys.get(statements);
  if (key === undefined) {
    key = JSON.stringify(statements);
    statementKeys.set(statements, key);
  }
  return key;
}
