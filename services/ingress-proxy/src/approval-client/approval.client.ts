import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  ApprovalCancelSchema,
  Topics,
  parseContract,
  type ApprovalCancel,
  type ApprovalDecided,
  type ApprovalReply,
  type ApprovalRequest,
  type ApprovalStatusReply,
  type Principal,
} from '@airlock/contracts';
import { KafkaProducer, MessagingError } from '@airlock/messaging';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import { CLOCK, type Clock } from '../credentials/lease.client';
import { IngressRpc } from '../rpc/ingress-rpc';
import { ApprovalWaiters } from './approval-waiters';
import { holdForApproval, type HoldOptions, type HoldResult } from './hold';

/**
 * The ingress side of the approval workflow: asks the approval service about held operations
 * (request/reply, answered at once), learns decisions from `airlock.approval.decided` (every
 * instance reads every decision: its consumer group is its own), and withdraws approvals nobody
 * waits for any more on `airlock.approval.cancel`.
 */
@Injectable()
export class ApprovalClient implements OnApplicationShutdown {
  private readonly logger = new Logger(ApprovalClient.name);
  private readonly waiters: ApprovalWaiters;

  constructor(
    private readonly rpc: IngressRpc,
    private readonly events: KafkaProducer,
    @Inject(INGRESS_CONFIG) private readonly config: IngressConfig,
    @Inject(CLOCK) private readonly now: Clock,
  ) {
    this.waiters = new ApprovalWaiters({ now });
  }

  onApplicationShutdown(): void {
    this.waiters.releaseAll();
  }

  /** Throws MessagingError when the approval service does not answer in time: the caller refuses. */
  async request(req: ApprovalRequest): Promise<ApprovalReply> {
    const reply = await this.rpc.request(Topics.ApprovalRequest, req.sessionId, req, this.config.APPROVAL_TIMEOUT_MS);
    if (reply.requestId !== req.requestId) {
      throw new MessagingError('contract', 'the approval service answered a different request');
    }
    return reply;
  }

  /** Where an approval stands, asked for the principal it was requested for; MessagingError when unanswered. */
  async status(approvalId: string, principal: Principal, requestId: string): Promise<ApprovalStatusReply> {
    const reply = await this.rpc.request(
      Topics.ApprovalStatus,
      approvalId,
      { requestId, approvalId, principal },
      this.config.APPROVAL_TIMEOUT_MS,
    );
    if (reply.requestId !== requestId || reply.approvalId !== approvalId) {
      throw new MessagingError('contract', 'the approval service answered a different question');
    }
    return reply;
  }

  /** The next decision of an approval; null when none came within `withinMs` or `signal` aborted. */
  waitFor(
    approvalId: string,
    withinMs: number,
    signal?: AbortSignal,
    skip?: ApprovalDecided,
  ): Promise<ApprovalDecided | null> {
    return this.waiters.wait(approvalId, withinMs, signal, skip);
  }

  /** `airlock.approval.decided`. */
  decided(e: ApprovalDecided): void {
    this.waiters.decided(e);
  }

  /** Holds an operation policy sent for review until it may run, is refused, or the wait ends (see holdForApproval). */
  hold(req: ApprovalRequest, opts: HoldOptions): Promise<HoldResult> {
    return holdForApproval(
      {
        request: (r) => this.request(r),
        waitFor: (id, ms, signal, skip) => this.waitFor(id, ms, signal, skip),
        now: this.now,
      },
      req,
      opts,
    );
  }

  /** Withdraws a pending approval; rejects when the broker did not take it. */
  async cancel(e: ApprovalCancel): Promise<void> {
    const event = parseContract(Topics.ApprovalCancel, ApprovalCancelSchema, e);
    const timeout = this.config.APPROVAL_TIMEOUT_MS;
    try {
      await this.events.producer.send({
        topic: Topics.ApprovalCancel,
        acks: -1,
        timeout,
        messages: [{ key: event.approvalId, value: JSON.stringify(event) }],
      });
    } catch (cause) {
      throw new MessagingError('broker', `could not publish on ${Topics.ApprovalCancel}`, { cause });
    }
    this.logger.log({ approvalId: event.approvalId, requestId: event.requestId }, 'approval cancelled');
  }
}
