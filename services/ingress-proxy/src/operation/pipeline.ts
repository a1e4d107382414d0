import { Injectable, Logger } from '@nestjs/common';
import type {
  ApprovalReply,
  ApprovalRequest,
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
import { ApprovalClient } from '../approval-client/approval.client';
import {
  ApprovalUnavailableError,
  approvalRefusalReason,
  type HoldOptions,
  type HoldResult,
} from '../approval-client/hold';
import { AuditService } from '../audit/audit.service';
import { refusalReason } from '../errors';
import { ResponseMasking } from '../masking/response-masking';
import { PolicyClient } from '../policy-client/policy-client.service';
import {
  approvalDeniedDraft,
  decidedData,
  decidedDraft,
  deniedDraft,
  heldDraft,
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

/** How an adapter holds an operation policy sent for review. */
export interface HoldHow {
  /** What the approval covers: the exact operation, parameter or body values included. */
  fingerprint: string;
  /** What approvers are shown. */
  detail: string;
  /** When to stop waiting, given the first answer and the time it came. */
  deadline: HoldOptions['deadline'];
  /** Aborted when the operation stops waiting; its reason is the approval's cancel reason. */
  signal?: AbortSignal;
  /**
   * Withdraw the approval when the operation stops waiting without it (nobody will come back for
   * it); unset, a pending approval stays for the agent's retry.
   */
  withdraw: boolean;
  /** Called once each new approval's operation.held event is on the stream: tell the client. */
  onHeld?(reply: ApprovalReply): void | Promise<void>;
}

/**
 * How a hold ended when the operation was not refused: a refusal (a person said no, the approval
 * expired, the approval service or the audit stream did not answer) is thrown as a `Refusal`.
 */
export type HoldOutcome =
  | { kind: 'approved' }
  /** Still pending when the wait ended. */
  | { kind: 'pending'; reply: ApprovalReply }
  /** The operation stopped waiting (its signal); `reply` unset when nothing had been asked yet. */
  | { kind: 'aborted'; reply?: ApprovalReply };

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
    private readonly approvals: ApprovalClient,
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

  /**
   * The events that show what was decided, for an admitted operation refused before it ran (its
   * result could not be masked as policy requires): nothing of it is on the stream yet.
   */
  explain(op: Operation, admitted: Admitted): AuditEventDraft[] {
    const { folded } = admitted;
    if (!folded) return admitted.unsent;
    return [interceptedDraft(op.env, folded.operation), decidedDraft(op.env, folded.decision)];
  }

  /**
   * Publishes what must be on the stream before the operation runs; a `Refusal` when it cannot be
   * (nothing more is recorded of the operation then: the stream takes nothing).
   */
  async auditFirst(env: Pick<Envelope, 'requestId'>, drafts: AuditEventDraft[]): Promise<void> {
    if (drafts.length === 0) return;
    try {
      await this.audit.emit(...drafts);
    } catch (err) {
      this.logger.error({ requestId: env.requestId, err: (err as Error).message }, 'audit unavailable: refusing');
      throw new Refusal('audit_unavailable', 'audit', 'the audit trail is unavailable', { cause: err, recorded: true });
    }
  }

  /**
   * Holds an operation policy sent for review until a person decides, the wait ends or the
   * adapter aborts it. Its intercepted and decided events go on the stream before the approval is
   * asked for, and each approval it waits for is recorded (operation.held) before the client is
   * told. Only an `approved` answer lets it run; a refused approval is a `Refusal` (kind
   * `not_approved`, its operation.denied event with it).
   */
  async hold(op: Operation, admitted: Admitted, how: HoldHow): Promise<HoldOutcome> {
    const { decision, review: rules } = admitted;
    if (!rules) throw new Error('the operation is not held for review');
    const { env } = op;
    await this.auditFirst(env, admitted.unsent.splice(0));
    // Stopped before anything was asked: there is no approval to withdraw.
    if (how.signal?.aborted) return { kind: 'aborted' };
    const request: ApprovalRequest = {
      requestId: env.requestId,
      sessionId: env.sessionId,
      principal: op.principal,
      connection: op.connection,
      protocol: op.operation.kind,
      operation: op.audited,
      fingerprint: how.fingerprint,
      ruleId: decision.ruleId,
      reason: decision.reason,
      rules,
      detail: how.detail,
    };
    let last: ApprovalReply | undefined;
    const withdraw = (reply: ApprovalReply | undefined, reason: string): void => {
      if (how.withdraw && reply?.state === 'pending') this.withdraw(op, reply, reason);
    };
    let result: HoldResult;
    try {
      result = await this.approvals.hold(request, {
        deadline: how.deadline,
        signal: how.signal,
        onHeld: async (reply) => {
          last = reply;
          await this.auditFirst(env, [heldDraft(env, reply)]);
          await how.onHeld?.(reply);
        },
      });
    } catch (err) {
      withdraw(last, 'the operation was refused while it waited');
      if (!(err instanceof ApprovalUnavailableError)) throw err;
      this.logger.warn(
        { requestId: env.requestId, err: err.cause instanceof Error ? err.cause.message : String(err.cause) },
        'approval service did not answer: refusing',
      );
      throw new Refusal('approval_unavailable', 'approval', 'the approval service did not answer', { cause: err });
    }
    switch (result.kind) {
      case 'approved':
        return { kind: 'approved' };
      case 'refused': {
        const reason = approvalRefusalReason(result.approvalId, result.state);
        throw new Refusal('not_approved', 'approval', reason, {
          events: [approvalDeniedDraft(env, decision, result.approvalId, result.state, reason)],
          recorded: true,
        });
      }
      case 'pending':
        withdraw(result.reply, 'the operation stopped waiting');
        return result;
      case 'aborted':
        withdraw(result.reply, String(how.signal?.reason ?? 'cancelled by the client'));
        return result;
    }
  }

  /** Cancels an approval nobody waits for any more; a failure is logged, never thrown. */
  private withdraw(op: Operation, reply: ApprovalReply, reason: string): void {
    this.approvals
      .cancel({
        approvalId: reply.approvalId,
        requestId: op.env.requestId,
        sessionId: op.env.sessionId,
        principal: op.principal,
        reason,
      })
      .catch((err: Error) =>
        this.logger.warn(
          { approvalId: reply.approvalId, err: err.message },
          'approval could not be cancelled: it stays pending until it expires',
        ),
      );
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
    if (drafts.length > 0) this.audit.emitAfter(...drafts);
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
