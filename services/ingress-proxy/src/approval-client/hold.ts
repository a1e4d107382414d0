import type { ApprovalDecided, ApprovalReply, ApprovalRequest, ApprovalState } from '@airlock/contracts';

/** The approval service could not be asked (no answer in time, broker down, a bad reply): refuse. */
export class ApprovalUnavailableError extends Error {
  constructor(options: { cause: unknown }) {
    super('the approval service did not answer', options);
    this.name = 'ApprovalUnavailableError';
  }
}

/** How a held operation ended. */
export type HoldResult =
  /** It may run now. */
  | { kind: 'approved'; approvalId: string; grantUntil?: string }
  /** A person denied it, nobody decided in time, or it was cancelled. */
  | { kind: 'refused'; approvalId: string; state: ApprovalState }
  /** Still waiting when the deadline came: `reply` is the approval it waits for. */
  | { kind: 'pending'; reply: ApprovalReply }
  /** The caller stopped waiting (signal aborted): `reply` is the last answer, pending or not. */
  | { kind: 'aborted'; reply: ApprovalReply };

/** What the hold needs from the approval client; tests give fakes. */
export interface HoldDeps {
  request(req: ApprovalRequest): Promise<ApprovalReply>;
  waitFor(
    approvalId: string,
    withinMs: number,
    signal?: AbortSignal,
    skip?: ApprovalDecided,
  ): Promise<ApprovalDecided | null>;
  now(): number;
}

export interface HoldOptions {
  /**
   * When to stop waiting (epoch ms), given the first answer and the time it came: a fixed wait for
   * HTTP, the approval's expiry for SQL.
   */
  deadline(first: ApprovalReply, now: number): number;
  signal?: AbortSignal;
  /**
   * Called with the first answer, and again whenever a later answer names another approval (someone
   * else used the one-time approval this operation waited for): records `operation.held`, tells the
   * client. A rejection ends the hold with that error (the caller fails closed).
   */
  onHeld(reply: ApprovalReply): Promise<void>;
  /** A pending approval not decided this long after its expiry is taken as expired. */
  expiryGraceMs?: number;
}

const REFUSING: ReadonlySet<ApprovalState> = new Set(['denied', 'expired', 'cancelled']);
/** A wait that ends this much before its time was released, not timed out. */
const EARLY_RELEASE_MS = 100;

/**
 * Holds one operation that policy sent for review, the same way for every protocol. The approval
 * service answers at once: `approved` lets the operation run now (a one-time approval is used by
 * that very answer), `pending` means a person has to decide and the decision follows as an event.
 * A decided `approved` does not by itself let the operation run: the operation asks again, and
 * only an `approved` answer lets it through, so a one-time approval runs exactly one operation. If
 * someone else used it meanwhile, the answer is a new pending approval and the wait goes on
 * within the time left.
 *
 * When the wait runs out, the service is asked once more, in case a decision event was missed.
 * An approval that passes its expiry with no decision seen is taken as expired without asking:
 * asking would open a new approval (and notify approvers) for an operation about to be refused.
 */
export async function holdForApproval(deps: HoldDeps, req: ApprovalRequest, opts: HoldOptions): Promise<HoldResult> {
  const grace = opts.expiryGraceMs ?? 1000;
  const ask = async (): Promise<ApprovalReply> => {
    try {
      return await deps.request(req);
    } catch (cause) {
      throw new ApprovalUnavailableError({ cause });
    }
  };
  let heldFor: string | undefined;
  const answered = async (reply: ApprovalReply): Promise<ApprovalReply> => {
    if (reply.approvalId !== heldFor) {
      heldFor = reply.approvalId;
      await opts.onHeld(reply);
    }
    return reply;
  };

  let reply = await answered(await ask());
  const deadline = opts.deadline(reply, deps.now());
  let actedOn: ApprovalDecided | undefined;
  for (;;) {
    if (opts.signal?.aborted) return { kind: 'aborted', reply };
    if (reply.state === 'approved')
      return { kind: 'approved', approvalId: reply.approvalId, grantUntil: reply.grantUntil };
    if (reply.state !== 'pending') return { kind: 'refused', approvalId: reply.approvalId, state: reply.state };

    const expiry = Date.parse(reply.expiresAt) + grace;
    const until = Math.min(deadline, expiry);
    const withinMs = until - deps.now();
    const decided = await deps.waitFor(reply.approvalId, withinMs, opts.signal, actedOn);
    if (opts.signal?.aborted) return { kind: 'aborted', reply };
    if (decided === null) {
      // Released before its time (the gateway is shutting down): the operation is left pending.
      if (deps.now() < until - EARLY_RELEASE_MS) return { kind: 'pending', reply };
      // Timers may fire a millisecond early by the wall clock: which bound ended the wait is what counts.
      if (expiry <= deadline) {
        return { kind: 'refused', approvalId: reply.approvalId, state: 'expired' };
      }
      // No time was left to wait in, so no decision can have been missed.
      if (withinMs <= 0) return { kind: 'pending', reply };
      const last = await answered(await ask());
      if (last.state === 'pending') return { kind: 'pending', reply: last };
      reply = last;
      continue;
    }
    if (REFUSING.has(decided.state)) return { kind: 'refused', approvalId: decided.approvalId, state: decided.state };
    // approved, or used by someone else: only a fresh answer says whether this operation may run.
    actedOn = decided;
    if (decided.state === 'pending') continue;
    reply = await answered(await ask());
  }
}

/** What the agent is told when its held operation was refused. */
export function approvalRefusalReason(approvalId: string, state: ApprovalState): string {
  switch (state) {
    case 'denied':
      return `approval ${approvalId} was denied`;
    case 'expired':
      return `approval ${approvalId} expired before anyone decided`;
    case 'cancelled':
      return `approval ${approvalId} was cancelled`;
    default:
      return `approval ${approvalId} is ${state}`;
  }
}
