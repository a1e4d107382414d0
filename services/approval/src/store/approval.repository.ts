import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { ApprovalState } from '@airlock/contracts';
import { ApprovalVoteEntity } from './approval-vote.entity';
import { ApprovalEntity } from './approval.entity';
import { LinkUseEntity } from './link-use.entity';

/** An approval with its votes, oldest vote first. */
export interface StoredApproval {
  approval: ApprovalEntity;
  votes: ApprovalVoteEntity[];
}

/** Whose exact operation: what a pending approval is reused for and a grant covers. */
export interface OperationKey {
  issuer: string;
  subject: string;
  connection: string;
  fingerprint: string;
}

export interface ListFilter {
  states: ApprovalState[];
  /** Only approvals any of these groups may decide; 'all' for every approval. */
  approverGroups: string[] | 'all';
  limit: number;
}

/**
 * The writes of one transaction. Every state change is conditional on the state it leaves, and
 * says whether it applied: of two callers racing for the same move, exactly one wins.
 */
export class ApprovalTx {
  constructor(private readonly m: EntityManager) {}

  async insert(approval: ApprovalEntity): Promise<void> {
    await this.m.getRepository(ApprovalEntity).insert(approval);
  }

  /** pending → expired, once its time has come. */
  expire(id: string, now: Date): Promise<boolean> {
    return this.move(id, 'pending', { state: 'expired', decidedAt: now }, 'expires_at <= :now', { now });
  }

  /** A one-time approval (no grant window) lets one operation run: approved → used. */
  use(id: string, now: Date): Promise<boolean> {
    return this.move(id, 'approved', { state: 'used', usedAt: now }, 'grant_until IS NULL');
  }

  cancel(id: string, now: Date): Promise<boolean> {
    return this.move(id, 'pending', { state: 'cancelled', decidedAt: now });
  }

  /** pending → approved (enough approvers) or denied. */
  settle(id: string, state: 'approved' | 'denied', now: Date, grantUntil: Date | null = null): Promise<boolean> {
    return this.move(id, 'pending', { state, decidedAt: now, grantUntil });
  }

  async addVote(vote: ApprovalVoteEntity): Promise<void> {
    await this.m.getRepository(ApprovalVoteEntity).insert(vote);
  }

  async linkUsed(jti: string): Promise<boolean> {
    return this.m.getRepository(LinkUseEntity).exists({ where: { jti } });
  }

  /** Records a link's single use; false when it was used before. */
  async useLink(jti: string, approvalId: string, now: Date): Promise<boolean> {
    const result = await this.m
      .createQueryBuilder()
      .insert()
      .into(LinkUseEntity)
      .values({ jti, approvalId, usedAt: now })
      .orIgnore()
      .returning(['jti'])
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /** The approval as this transaction sees it now. */
  async reload(id: string): Promise<StoredApproval> {
    const approval = await this.m.getRepository(ApprovalEntity).findOneByOrFail({ id });
    return { approval, votes: await votesOf(this.m, [id]) };
  }

  private async move(
    id: string,
    from: ApprovalState,
    set: Partial<ApprovalEntity>,
    condition?: string,
    params: Record<string, unknown> = {},
  ): Promise<boolean> {
    const qb = this.m
      .createQueryBuilder()
      .update(ApprovalEntity)
      .set(set)
      .where('id = :id AND state = :from', { id, from });
    if (condition) qb.andWhere(condition, params);
    const result = await qb.execute();
    return (result.affected ?? 0) > 0;
  }
}

/** The approval store. Reads here never change anything; changes happen in `forOperation` and `locked`. */
@Injectable()
export class ApprovalRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async find(id: string): Promise<StoredApproval | null> {
    const approval = await this.db.getRepository(ApprovalEntity).findOneBy({ id });
    return approval && { approval, votes: await votesOf(this.db.manager, [id]) };
  }

  /** Newest first. */
  async list(filter: ListFilter): Promise<StoredApproval[]> {
    if (filter.states.length === 0) return [];
    const qb = this.db
      .getRepository(ApprovalEntity)
      .createQueryBuilder('a')
      .where('a.state IN (:...states)', { states: filter.states })
      .orderBy('a.created_at', 'DESC')
      .limit(filter.limit);
    if (filter.approverGroups !== 'all') {
      qb.andWhere('a.approver_groups && CAST(:groups AS text[])', { groups: filter.approverGroups });
    }
    const approvals = await qb.getMany();
    const votes = await votesOf(
      this.db.manager,
      approvals.map((a) => a.id),
    );
    return approvals.map((approval) => ({ approval, votes: votes.filter((v) => v.approvalId === approval.id) }));
  }

  /**
   * Runs `work` in a transaction that holds the lock of one principal's exact operation, so two
   * identical requests take turns: the second sees what the first created or used. `live` are
   * the operation's pending approvals and approved ones that may still let it run at `now`, newest first.
   */
  forOperation<T>(
    key: OperationKey,
    now: Date,
    work: (tx: ApprovalTx, live: ApprovalEntity[]) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction(async (m) => {
      const lockKey = JSON.stringify([key.issuer, key.subject, key.connection, key.fingerprint]);
      await m.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockKey]);
      const live = await m
        .getRepository(ApprovalEntity)
        .createQueryBuilder('a')
        .where('a.requester_issuer = :issuer AND a.requester_subject = :subject', key)
        .andWhere('a.connection = :connection AND a.fingerprint = :fingerprint', key)
        .andWhere(
          "(a.state = 'pending' OR (a.state = 'approved' AND (a.grant_until IS NULL OR a.grant_until > :now)))",
          { now },
        )
        .orderBy('a.created_at', 'DESC')
        .getMany();
      return work(new ApprovalTx(m), live);
    });
  }

  /**
   * Runs `work` in a transaction that holds the approval's row lock (null when there is no such
   * approval): concurrent votes on one approval take turns, and none is lost.
   */
  locked<T>(id: string, work: (tx: ApprovalTx, stored: StoredApproval | null) => Promise<T>): Promise<T> {
    return this.db.transaction(async (m) => {
      const approval = await m
        .getRepository(ApprovalEntity)
        .createQueryBuilder('a')
        .where('a.id = :id', { id })
        .setLock('pessimistic_write')
        .getOne();
      const stored = approval && { approval, votes: await votesOf(m, [id]) };
      return work(new ApprovalTx(m), stored);
    });
  }
}

function votesOf(m: EntityManager, ids: string[]): Promise<ApprovalVoteEntity[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return m.getRepository(ApprovalVoteEntity).find({ where: { approvalId: In(ids) }, order: { decidedAt: 'ASC' } });
}
