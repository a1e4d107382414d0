import { Injectable, Logger } from '@nestjs/common';
import type {
  ApprovalRules,
  AuditEventDraft,
  HttpOperation,
  PolicyDecision,
  PolicyEvaluateRequest,
  PostgresOperation,
  Principal,
} from '@airlock/contracts';
import type { Masker } from '@airlock/masking';
import { MessagingError } from '@airlock/messaging';
import { AuditService } from '../audit/audit.service';
import { refusalReason } from '../errors';
import { ResponseMasking } from '../masking/response-masking';
import { PolicyClient } from '../policy-client/policy-client.service';
import {
  decidedData,
  decidedDraft,
  deniedDraft,
  interceptedDraft,
  type AuditedOperation,
  type DecisionRecord,
  type Envelope,
  type Folded,
} from './operation-audit';
import { Refusal } from './refusal';

/** One operation as an adapter hands it to the pipeline. */
export interface Operation {
  env: Envelope;
  principal: Principal;
  connection: string;
  operation: HttpOperation | PostgresOperation;
  /** The operation as the trail keeps it (no header, query or parameter values). */
  audited: AuditedOperation;
  /**
   * Nothing it does can change anything (an HTTP GET, HEAD or OPTIONS; a read-only statement):
   * allowed outright, it may run before its audit is on the stream and be recorded in one event
   * when it ends.
   */
  read: boolean;
}

export interface Decided {
  decision: PolicyDecision;
  cached: boolean;
  record: DecisionRecord;
}

/** What the pipeline lets an operation do once policy has allowed it. */
export interface Admitted {
  decision: PolicyDecision;
  /** Masks the response as policy requires; undefined when policy masks nothing. */
  masker: Masker | undefined;
  /**
   * Set when the operation is audited by its outcome event alone (a read): the operation and
   * decision that event carries. Unset: its intercepted and decided events are on the stream.
   */
  folded: Folded | undefined;
  /** Audit events not on the stream yet (held operations publish them before they wait). */
  unsent: AuditEventDraft[];
  /** Set when policy holds the operation for a person: the approval rules. */
  review: ApprovalRules | undefined;
}

/**
 * The one path every operation takes through the gateway, whatever its protocol: a decision
 * (cached when policy allows), the refusal of what policy denies, the masker policy names,
 * audit before anything that can change data, and the events of the outcome. Adapters turn a
 * protocol exchange into an `Operation`, forward it with their own protocol code, and answer a
 * `Refusal` in their protocol in one place.
 */
@Injectable()
export class OperationPipeline {
  readonly logger = new Logger(OperationPipeline.name);

  constructor(
    private readonly policy: PolicyClient,
    private readonly audit: AuditService,
    private readonly masking: ResponseMasking,
  ) {}

  /**
   * Policy's decision. A cached one is answered without a turn of the event loop; a policy
   * service that does not answer is a `Refusal` (fail closed).
   */
  decide(op: Operation): Decided | Promise<Decided> {
    const req = policyRequest(op);
    const hit = this.policy.cached(req);
    if (hit) return { decision: hit.decision, cached: true, record: decidedData(hit.decision, true) };
    return this.policy.evaluate(req).then(
      ({ decision, cached }) => ({ decision, cached, record: decidedData(decision, cached) }),
      (err: unknown) => {
        const timeout = err instanceof MessagingError && err.failure === 'timeout';
        this.logger.warn(
          { requestId: op.env.requestId, err: (err as Error).message },
          'policy did not answer: refusing',
        );
        throw new Refusal(
          'policy_unavailable',
          'policy',
          timeout ? 'the policy service did not answer in time' : 'the policy service is unavailable',
          { cause: err },
        );
      },
    );
  }

  /**
   * What policy's decision lets the operation do: a `Refusal` (kind `denied`, its events with it)
   * for a deny, or a review that nobody could approve; otherwise the masker and how the operation
   * is audited. Nothing is published here: `unsent` goes out with `auditFirst` or a refusal.
   */
  admit(op: Operation, decided: Decided): Admitted {
    const { decision } = decided;
    // What goes on the stream first, made only for an operation that is not folded.
    const before = (): AuditEventDraft[] => [
      interceptedDraft(op.env, op.audited),
      decidedDraft(op.env, decided.record),
    ];
    const review = decision.decision === 'review' ? decision.approval : undefined;
    if (decision.decision === 'deny' || (decision.decision === 'review' && !review)) {
      const reason = refusalReason(decision);
      throw new Refusal('denied', 'policy', reason, {
        events: [...before(), deniedDraft(op.env, reason, decision)],
        recorded: true,
      });
    }
    let masker: Masker | undefined;
    try {
      masker = this.masking.masker(decision.masking);
    } catch (err) {
      this.logger.error(
        { requestId: op.env.requestId, err: (err as Error).message },
        'policy names a masking rule this gateway does not know',
      );
      throw new Refusal('masking_unavailable', 'internal', 'the response cannot be masked as policy requires', {
        cause: err,
        events: before(),
      });
    }
    // A read allowed outright needs nothing on the stream before it runs, as long as the stream
    // acknowledges what it is given; otherwise it is audited first like anything else.
    if (!review && op.read && this.audit.healthy) {
      return { decision, masker, review, unsent: [], folded: { operation: op.audited, decision: decided.record } };
    }
    return { decision, masker, review, unsent: before(), folded: undefined };
  }

  /** Publishes what must be on the stream before the operation runs; a `Refusal` when it cannot be. */
  async auditFirst(env: Pick<Envelope, 'requestId'>, drafts: AuditEventDraft[]): Promise<void> {
    if (drafts.length === 0) return;
    try {
      await this.audit.emit(...drafts);
    } catch (err) {
      this.logger.error({ requestId: env.requestId, err: (err as Error).message }, 'audit unavailable: refusing');
      throw new Refusal('audit_unavailable', 'audit', 'the audit trail is unavailable', { cause: err });
    }
  }

  /**
   * Records a refusal: the events that came with it (or `before`, what was known before it), then
   * the adapter's failure event. Waits for the broker, but a refusal is answered even when the
   * stream is down (there is nothing to fail closed on).
   */
  async recordRefusal(
    env: Pick<Envelope, 'requestId'>,
    before: AuditEventDraft[],
    failed: AuditEventDraft | undefined,
  ): Promise<void> {
    const drafts = failed ? [...before, failed] : before;
    if (drafts.length === 0) return;
    try {
      await this.audit.emit(...drafts);
    } catch (err) {
      this.logger.error(
        { requestId: env.requestId, err: (err as Error).message },
        'audit events of a refusal could not be published',
      );
    }
  }

  /** Outcome events, after the answer has gone out: published in the background. */
  record(...drafts: AuditEventDraft[]): void {
    this.audit.emitAfter(...drafts);
  }

  /** Whether the audit stream acknowledges what it is given (reads are folded only then). */
  get auditHealthy(): boolean {
    return this.audit.healthy;
  }
}

function policyRequest(op: Operation): PolicyEvaluateRequest {
  return {
    requestId: op.env.requestId,
    sessionId: op.env.sessionId,
    principal: op.principal,
    connection: op.connection,
    protocol: op.operation.kind,
    operation: op.operation,
  };
}
