import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { uuidv7, type ApprovalCancel, type ApprovalReply, type ApprovalRequest } from '@airlock/contracts';
import { CLOCK, type Clock } from '../clock';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';
import { NotificationQueue } from '../notifications/notification.queue';
import { ApprovalEntity } from '../store/approval.entity';
import { ApprovalRepository, type ApprovalTx, type StoredApproval } from '../store/approval.repository';
import { approvalUrl, candidateOf, principalKey, recordOf, requesterOf } from '../store/records';
import { ApprovalTransitionError, transition } from './approval-state';
import { ExpiryQueue } from './expiry';
import { decideRequest } from './request-decision';
import { Transitions } from './transitions';

interface RequestOutcome {
  reply: ApprovalReply;
  /** Overdue approvals of the operation this request expired: announced after the commit. */
  expired: StoredApproval[];
  created?: ApprovalEntity;
}

/**
 * The ingress's side of the workflow, over Kafka: a held operation is answered at once (reused,
 * covered by an earlier approval, or pending a new one), and a requester that gives up cancels.
 */
@Injectable()
export class ApprovalService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApprovalService.name);
  private resweepTimer?: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    private readonly repository: ApprovalRepository,
    private readonly transitions: Transitions,
    private readonly notifications: NotificationQueue,
    private readonly expiry: ExpiryQueue,
    @Inject(APPROVAL_CONFIG) private readonly config: ApprovalConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Never waits for a person. Whatever it answers is on the audit trail first: if the audit event
   * cannot be published, nothing is stored and the ingress gets an error (and refuses).
   */
  async request(req: ApprovalRequest): Promise<ApprovalReply> {
    const now = this.clock();
    const key = {
      issuer: req.principal.issuer,
      subject: req.principal.subject,
      connection: req.connection,
      fingerprint: req.fingerprint,
    };
    const outcome = await this.repository.forOperation(key, new Date(now), (tx, live) =>
      this.answer(tx, req, live, now),
    );
    for (const e of outcome.expired) await this.transitions.announce(e);
    // The reply does not wait for Redis: the sweep queues whatever could not be queued now.
    if (outcome.created) void this.schedule(outcome.created);
    return outcome.reply;
  }

  private async answer(
    tx: ApprovalTx,
    req: ApprovalRequest,
    live: ApprovalEntity[],
    now: number,
  ): Promise<RequestOutcome> {
    const { overdue, decision } = decideRequest(
      live.map((approval) => ({ approval, ...candidateOf(approval) })),
      now,
      this.config.APPROVAL_USE_WITHIN_SECONDS * 1000,
    );
    const expired: StoredApproval[] = [];
    for (const { approval } of overdue) {
      const after = await this.transitions.expireIn(tx, approval.id, now);
      if (after) expired.push(after);
    }
    switch (decision.kind) {
      case 'reuse':
        return { expired, reply: this.reply(req, decision.approval.approval, { state: 'pending', reused: true }) };
      case 'grant': {
        const a = decision.approval.approval;
        return { expired, reply: this.reply(req, a, { state: 'approved', grantUntil: a.grantUntil?.toISOString() }) };
      }
      case 'use': {
        const a = decision.approval.approval;
        // Conditional: of two requests racing for one one-time approval, the loser asks a person anew.
        if (await tx.use(a.id, new Date(now))) {
          await this.transitions.changed(await tx.reload(a.id), {
            action: 'use',
            from: 'approved',
            to: 'used',
            actor: req.principal,
            via: 'kafka',
            reason: 'a one-time approval let its operation run',
            sessionId: req.sessionId,
            requestId: req.requestId,
          });
          return { expired, reply: this.reply(req, a, { state: 'approved' }) };
        }
        break;
      }
    }
    const created = this.newApproval(req, now);
    await tx.insert(created);
    await this.transitions.changed(
      { approval: created, votes: [] },
      { action: 'request', from: null, to: 'pending', actor: req.principal, via: 'kafka', reason: req.reason },
    );
    return { expired, created, reply: this.reply(req, created, { state: 'pending' }) };
  }

  /**
   * Notifications and the expiry job go out after the commit, so a worker never looks for an
   * approval that is not there yet. If Redis fails here, the approval still stands: approvers
   * find it in the API, it expires on the next read past its time, and the next sweep queues
   * its jobs.
   */
  private async schedule(a: ApprovalEntity): Promise<void> {
    const deadline = this.config.AUDIT_TIMEOUT_MS;
    const jobs = [
      ['notifications', () => this.notifications.enqueue(a.id)],
      ['expiry', () => this.expiry.schedule(a.id, a.expiresAt)],
    ] as const;
    await Promise.all(
      jobs.map(([what, start]) =>
        within(deadline, start()).catch((err: unknown) => {
          this.logger.error(
            { approvalId: a.id, err: (err as Error).message },
            `${what} of a pending approval not queued; queued again by the next sweep`,
          );
        }),
      ),
    );
  }

  onApplicationBootstrap(): void {
    this.resweepTimer = setInterval(() => void this.resweep(), this.config.APPROVAL_RESWEEP_MS);
    this.resweepTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.resweepTimer);
  }

  /**
   * Queues again the notifications and expiry of every pending approval. Queueing is idempotent
   * (one job id per approval and channel, a delivery record per notification sent), so this only
   * fills what a Redis outage at creation, or a Redis that lost its data, left out.
   */
  async resweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const pending = await this.repository.list({ states: ['pending'], approverGroups: 'all', limit: 1000 });
      for (const { approval } of pending) await this.schedule(approval);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'pending approvals could not be queued again');
    } finally {
      this.sweeping = false;
    }
  }

  /** Cancels the requester's pending approval; anything else (unknown, decided, someone else's) is logged and ignored. */
  async cancel(event: ApprovalCancel): Promise<void> {
    const now = this.clock();
    const ignore = (why: string): void =>
      this.logger.warn({ approvalId: event.approvalId, requestId: event.requestId }, `cancel ignored: ${why}`);
    try {
      const outcome = await this.repository.locked(event.approvalId, async (tx, stored) => {
        if (!stored) return 'no such approval';
        const expired = await this.transitions.expireIn(tx, event.approvalId, now);
        if (expired) return expired;
        if (principalKey(event.principal) !== principalKey(requesterOf(stored.approval))) {
          return 'only the requester may cancel';
        }
        try {
          transition(recordOf(stored), { kind: 'cancel', reason: event.reason }, now);
        } catch (err) {
          if (err instanceof ApprovalTransitionError) return err.message;
          throw err;
        }
        if (!(await tx.cancel(stored.approval.id, new Date(now)))) return 'it is no longer pending';
        const after = await tx.reload(stored.approval.id);
        await this.transitions.changed(after, {
          action: 'cancel',
          from: 'pending',
          to: 'cancelled',
          actor: event.principal,
          via: 'kafka',
          reason: event.reason || 'the requester gave up',
          sessionId: event.sessionId,
          requestId: event.requestId,
        });
        return { cancelled: after };
      });
      if (typeof outcome === 'string') return ignore(outcome);
      if ('cancelled' in outcome) {
        await this.transitions.announce(outcome.cancelled, {
          by: [event.principal],
          ...(event.reason ? { comment: event.reason } : {}),
        });
        return;
      }
      await this.transitions.announce(outcome);
      ignore('it had expired');
    } catch (err) {
      this.logger.error(
        { approvalId: event.approvalId, err: (err as Error).message },
        'a cancel could not be recorded; the approval is unchanged',
      );
    }
  }

  private newApproval(req: ApprovalRequest, now: number): ApprovalEntity {
    return Object.assign(new ApprovalEntity(), {
      id: uuidv7(now),
      state: 'pending',
      requesterIssuer: req.principal.issuer,
      requesterSubject: req.principal.subject,
      requesterGroups: req.principal.groups,
      connection: req.connection,
      protocol: req.protocol,
      fingerprint: req.fingerprint,
      sessionId: req.sessionId,
      requestId: req.requestId,
      ruleId: req.ruleId ?? null,
      reason: req.reason,
      detail: req.detail,
      approverGroups: req.rules.approverGroups,
      required: req.rules.required,
      grantSeconds: req.rules.grantSeconds ?? 0,
      createdAt: new Date(now),
      expiresAt: new Date(now + req.rules.expiresInSeconds * 1000),
      grantUntil: null,
      decidedAt: null,
      usedAt: null,
    } satisfies ApprovalEntity);
  }

  private reply(
    req: ApprovalRequest,
    a: ApprovalEntity,
    answer: Pick<ApprovalReply, 'state' | 'reused' | 'grantUntil'>,
  ): ApprovalReply {
    return {
      requestId: req.requestId,
      approvalId: a.id,
      expiresAt: a.expiresAt.toISOString(),
      url: approvalUrl(this.config, a.id),
      ...answer,
    };
  }
}

/** Rejects when `promise` has not settled within `ms`. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
