import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  truncateText,
  type ApprovalDecided,
  type ApprovalState,
  type AuditEventDraft,
  type Principal,
} from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import { countTransition, observeDecision } from '../approval-metrics';
import { CLOCK, type Clock } from '../clock';
import { UnavailableError } from '../errors';
import { ApprovalAudit, AUDIT_SOURCE } from '../publishing/approval-audit.service';
import { DecisionPublisher } from '../publishing/decision.publisher';
import { ApprovalRepository, type ApprovalTx, type StoredApproval } from '../store/approval.repository';
import { candidateOf, requesterOf, voterOf } from '../store/records';
import { effectiveState } from './approval-state';

type ChangedData = AuditEventDraft<'approval.changed'>['data'];

/** One move of an approval, as its `approval.changed` audit event tells it. */
export interface Change {
  action: ChangedData['action'];
  from: ApprovalState | null;
  to: ApprovalState;
  actor: Principal | null;
  via: ChangedData['via'];
  reason: string;
  /** The operation acting on it; by default the one that is held. */
  sessionId?: string;
  requestId?: string;
}

/** Who ended an approval and why, where the store does not say (a cancel). */
export interface Ending {
  by: Principal[];
  comment?: string;
}

export type ExpiryOutcome = { expired: true } | { expired: false; notBefore?: number };

const MAX_REASON = 2000;

/**
 * How every approval move reaches the world. Its audit event is published inside the move's
 * transaction, so a move nobody can audit does not happen; the decision is announced after the
 * commit, so whoever hears it and asks again finds it stored.
 */
@Injectable()
export class Transitions {
  private readonly logger = new Logger(Transitions.name);

  constructor(
    private readonly repository: ApprovalRepository,
    private readonly audit: ApprovalAudit,
    private readonly decisions: DecisionPublisher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Audits a move of `after` (the approval as it now is); throws 503 when that cannot be published. */
  async changed(after: StoredApproval, change: Change): Promise<void> {
    const a = after.approval;
    try {
      await this.audit.emit({
        type: 'approval.changed',
        sessionId: change.sessionId ?? a.sessionId,
        requestId: change.requestId ?? a.requestId,
        actor: change.actor,
        connection: a.connection,
        protocol: a.protocol,
        source: AUDIT_SOURCE,
        data: {
          approvalId: a.id,
          action: change.action,
          from: change.from,
          to: change.to,
          approvals: after.votes.filter((v) => v.decision === 'approve').length,
          required: a.required,
          reason: truncateText(change.reason, MAX_REASON),
          via: change.via,
          expiresAt: a.expiresAt.toISOString(),
          ...(a.grantUntil ? { grantUntil: a.grantUntil.toISOString() } : {}),
        },
      });
    } catch (err) {
      if (err instanceof MessagingError) {
        throw new UnavailableError('audit_unavailable', 'nothing was changed: the audit event could not be published', {
          cause: err,
        });
      }
      throw err;
    }
    countTransition(change.to);
  }

  /**
   * Publishes how an approval ended on `airlock.approval.decided`, once it is committed. The
   * move stands either way; a failure is logged, and an ingress that asks again still finds it.
   */
  async announce(stored: StoredApproval, ending?: Ending): Promise<void> {
    const decision = decisionOf(stored, ending);
    if (stored.approval.decidedAt)
      observeDecision(decision.state, stored.approval.createdAt, stored.approval.decidedAt);
    try {
      await this.decisions.decided(decision);
    } catch (err) {
      this.logger.error(
        { approvalId: decision.approvalId, state: decision.state, err: (err as Error).message },
        'a decision could not be announced',
      );
    }
  }

  /** Within a transaction: persists the expiry of a pending approval past its time; null when it is not one. */
  async expireIn(tx: ApprovalTx, id: string, now: number): Promise<StoredApproval | null> {
    if (!(await tx.expire(id, new Date(now)))) return null;
    const after = await tx.reload(id);
    await this.changed(after, {
      action: 'expire',
      from: 'pending',
      to: 'expired',
      actor: null,
      via: 'expiry',
      reason: 'nobody decided in time',
    });
    return after;
  }

  /**
   * Expires an approval whose time has come (the expiry job, or a read past its time). Does
   * nothing to any other; `notBefore` says when a pending one will be due.
   */
  async expire(id: string): Promise<ExpiryOutcome> {
    const now = this.clock();
    const outcome = await this.repository.locked(id, async (tx, stored): Promise<StoredApproval | number | null> => {
      if (stored?.approval.state !== 'pending') return null;
      if (effectiveState(candidateOf(stored.approval), now) === 'pending') return stored.approval.expiresAt.getTime();
      return this.expireIn(tx, id, now);
    });
    if (typeof outcome === 'number') return { expired: false, notBefore: outcome };
    if (outcome === null) return { expired: false };
    await this.announce(outcome);
    return { expired: true };
  }

  /** The approval as of now: a pending one past its time is expired first, when the audit trail allows. */
  async current(stored: StoredApproval): Promise<StoredApproval> {
    const a = stored.approval;
    if (a.state !== 'pending' || effectiveState(candidateOf(a), this.clock()) !== 'expired') return stored;
    try {
      await this.expire(a.id);
    } catch (err) {
      // The reader still sees it as expired (views show the effective state); the next read tries again.
      this.logger.warn({ approvalId: a.id, err: (err as Error).message }, 'an expiry could not be recorded');
      return stored;
    }
    return (await this.repository.find(a.id)) ?? stored;
  }
}

const DECIDING_VOTE: Partial<Record<ApprovalState, 'approve' | 'deny'>> = { approved: 'approve', denied: 'deny' };

/** The `airlock.approval.decided` event of an outcome: approved, denied, expired or cancelled. */
export function decisionOf({ approval: a, votes }: StoredApproval, ending?: Ending): ApprovalDecided {
  if (a.state === 'pending' || a.state === 'used' || a.decidedAt === null) {
    throw new Error(`approval ${a.id} is ${a.state}: there is no decision to announce`);
  }
  const deciding = votes.filter((v) => v.decision === DECIDING_VOTE[a.state]);
  const comment = ending?.comment ?? deciding.at(-1)?.comment ?? undefined;
  return {
    approvalId: a.id,
    state: a.state,
    decidedBy: ending?.by ?? (a.state === 'cancelled' ? [requesterOf(a)] : deciding.map(voterOf)),
    decidedAt: a.decidedAt.toISOString(),
    ...(comment ? { comment } : {}),
    ...(a.grantUntil ? { grantUntil: a.grantUntil.toISOString() } : {}),
  };
}
