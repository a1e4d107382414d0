import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ApprovalState, ApprovalView, Principal, VoteVia } from '@airlock/contracts';
import { CLOCK, type Clock } from '../clock';
import type { IssuerRole } from '@airlock/identity';
import { APPROVAL_CONFIG, adminRole, approverRole, type ApprovalConfig } from '../config';
import type { PublicError } from '@airlock/runtime';
import { ConflictError, ForbiddenError, GoneError, NotFoundError } from '../errors';
import { ApprovalVoteEntity } from '../store/approval-vote.entity';
import { ApprovalRepository, type ApprovalTx, type StoredApproval } from '../store/approval.repository';
import { LinkTokens, type LinkAction } from '../store/link-tokens';
import { approvalUrl, principalKey, recordOf } from '../store/records';
import { ApprovalTransitionError, transition, type ApprovalRecord } from './approval-state';
import { decisionRefusal, mayView, type CallerRoles } from './approver.guard';
import { approvalView, type DecisionBody } from './dto/approval.dto';
import { Transitions } from './transitions';

/** At most this many approvals in one list, newest first. */
export const LIST_LIMIT = 200;

/** What a decision's transaction leaves to do once it is committed. */
type DecisionOutcome = { decided: StoredApproval } | { refusal: PublicError; expired?: StoredApproval };

/**
 * The approvers' side of the workflow: what they may see, and their yes or no (through the API
 * or a signed link, always with their own token).
 */
@Injectable()
export class ApproverService {
  private readonly logger = new Logger(ApproverService.name);

  constructor(
    private readonly repository: ApprovalRepository,
    private readonly transitions: Transitions,
    private readonly links: LinkTokens,
    @Inject(APPROVAL_CONFIG) private readonly config: ApprovalConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.admins = adminRole(config);
    this.approvers = approverRole(config);
  }

  private readonly admins: IssuerRole;
  private readonly approvers: IssuerRole;

  /** What the caller's token grants here: groups count only for the issuer they are configured for. */
  private rolesOf(caller: Principal): CallerRoles {
    return { admin: this.admins.holds(caller), approverGroups: this.approvers.groupsOf(caller) };
  }

  /** Approvals in `state` (as of now) that the caller may decide; all of them for the admin group. */
  async list(caller: Principal, state: ApprovalState): Promise<ApprovalView[]> {
    const { admin, approverGroups } = this.rolesOf(caller);
    // A pending approval past its time is expired: looking for expired ones means looking at pending ones too.
    const states: ApprovalState[] = state === 'expired' ? ['expired', 'pending'] : [state];
    const found = await this.repository.list({
      states,
      approverGroups: admin ? 'all' : approverGroups,
      limit: LIST_LIMIT,
    });
    const views: ApprovalView[] = [];
    for (const stored of found) {
      const view = this.view(await this.transitions.current(stored));
      if (view.state === state) views.push(view);
    }
    return views;
  }

  async show(caller: Principal, id: string): Promise<ApprovalView> {
    const stored = await this.repository.find(id);
    if (!stored) throw unknownApproval(id);
    if (!mayView(this.rolesOf(caller), stored.approval)) {
      throw new ForbiddenError('only its approvers and the admin group may see this approval');
    }
    return this.view(await this.transitions.current(stored));
  }

  /** A signed link's action, by the approver who holds it and is entitled to it. */
  async decideByLink(caller: Principal, token: string, body: DecisionBody): Promise<ApprovalView> {
    const link = this.links.verify(token, this.clock());
    return this.decide(caller, link.a, link.act, body, 'link', link.jti);
  }

  /**
   * One approver's yes or no. Under the approval's row lock: concurrent votes take turns and
   * each counts; a link is spent in the same transaction as its vote.
   */
  async decide(
    caller: Principal,
    id: string,
    act: LinkAction,
    body: DecisionBody,
    via: VoteVia,
    jti?: string,
  ): Promise<ApprovalView> {
    const now = this.clock();
    const outcome = await this.repository.locked(
      id,
      async (tx, stored): Promise<DecisionOutcome> =>
        stored ? this.vote(tx, stored, caller, act, body, via, now, jti) : { refusal: unknownApproval(id) },
    );
    if ('refusal' in outcome) {
      if (outcome.expired) await this.transitions.announce(outcome.expired);
      throw outcome.refusal;
    }
    const decided = outcome.decided;
    if (decided.approval.state !== 'pending') await this.transitions.announce(decided);
    this.logger.log(
      { approvalId: id, act, via, state: decided.approval.state, by: principalKey(caller) },
      'approver decided',
    );
    return this.view(decided);
  }

  /** Refusals are returned, not thrown, so that an expiry found on the way is committed. */
  private async vote(
    tx: ApprovalTx,
    stored: StoredApproval,
    caller: Principal,
    act: LinkAction,
    body: DecisionBody,
    via: VoteVia,
    now: number,
    jti: string | undefined,
  ): Promise<DecisionOutcome> {
    const id = stored.approval.id;
    const expired = (await this.transitions.expireIn(tx, id, now)) ?? undefined;
    const current = expired ?? stored;
    if (jti && (await tx.linkUsed(jti))) {
      return { expired, refusal: new GoneError('link_used', 'this approval link has been used already') };
    }
    const forbidden = decisionRefusal(caller, this.rolesOf(caller), current.approval);
    if (forbidden) return { expired, refusal: forbidden };
    const approver = principalKey(caller);
    let next: ApprovalRecord;
    try {
      next = transition(
        recordOf(current),
        { kind: act, approver, ...(body.comment ? { comment: body.comment } : {}) },
        now,
        current.approval.grantSeconds * 1000,
      );
    } catch (err) {
      if (err instanceof ApprovalTransitionError) return { expired, refusal: new ConflictError(err.message) };
      throw err;
    }
    const at = new Date(now);
    if (jti && !(await tx.useLink(jti, id, at))) {
      return { refusal: new GoneError('link_used', 'this approval link has been used already') };
    }
    await tx.addVote(
      Object.assign(new ApprovalVoteEntity(), {
        approvalId: id,
        approverIssuer: caller.issuer,
        approverSubject: caller.subject,
        approverGroups: caller.groups,
        decision: act,
        comment: body.comment ?? null,
        via,
        decidedAt: at,
      } satisfies ApprovalVoteEntity),
    );
    if (next.state === 'approved' || next.state === 'denied') {
      const grantUntil = next.grantUntil !== undefined ? new Date(next.grantUntil) : null;
      if (!(await tx.settle(id, next.state, at, grantUntil))) throw new Error(`approval ${id} changed under its lock`);
    }
    const after = await tx.reload(id);
    await this.transitions.changed(after, {
      action: act,
      from: 'pending',
      to: next.state,
      actor: caller,
      via,
      reason: body.comment ?? (act === 'approve' ? 'approved' : 'denied'),
    });
    return { decided: after };
  }

  private view(stored: StoredApproval): ApprovalView {
    return approvalView(stored, this.clock(), approvalUrl(this.config, stored.approval.id));
  }
}

function unknownApproval(id: string): NotFoundError {
  return new NotFoundError(`unknown approval ${id}`);
}
