import type { ApprovalDecided } from '@airlock/contracts';

interface Waiter {
  skip?: ApprovalDecided;
  settle(decided: ApprovalDecided | null): void;
}

export interface ApprovalWaitersOptions {
  /** How many recent decisions are remembered. */
  maxRecent?: number;
  /** How long a decision is remembered. */
  recentTtlMs?: number;
  now?: () => number;
}

/** Two deliveries of one decision (Kafka delivers at least once). */
function sameDecision(a: ApprovalDecided, b: ApprovalDecided): boolean {
  return a.approvalId === b.approvalId && a.state === b.state && a.decidedAt === b.decidedAt;
}

/**
 * Operations held for an approval, waiting for `airlock.approval.decided`. A decision may arrive
 * before its waiter registers (a person decides while the request reply is still on its way, or
 * between one wait and the next), so recent decisions are remembered for a while: a waiter
 * registered late still sees its decision at once.
 */
export class ApprovalWaiters {
  private readonly waiting = new Map<string, Set<Waiter>>();
  /** approvalId → latest decision, oldest first (Map keeps insertion order). */
  private readonly recent = new Map<string, { decided: ApprovalDecided; at: number }>();
  private readonly maxRecent: number;
  private readonly recentTtlMs: number;
  private readonly now: () => number;

  constructor(options: ApprovalWaitersOptions = {}) {
    this.maxRecent = options.maxRecent ?? 10_000;
    this.recentTtlMs = options.recentTtlMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** A decision arrived: every waiter of that approval gets it. */
  decided(decided: ApprovalDecided): void {
    this.remember(decided);
    const waiters = this.waiting.get(decided.approvalId);
    if (!waiters) return;
    for (const w of [...waiters]) {
      if (w.skip && sameDecision(w.skip, decided)) continue;
      w.settle(decided);
    }
  }

  /**
   * The next decision of an approval, or null when none came within `withinMs` or `signal`
   * aborted. `skip` is a decision the caller has already acted on: a redelivery of it, or its
   * memory, does not count.
   */
  wait(
    approvalId: string,
    withinMs: number,
    signal?: AbortSignal,
    skip?: ApprovalDecided,
  ): Promise<ApprovalDecided | null> {
    const known = this.recall(approvalId);
    if (known && !(skip && sameDecision(skip, known))) return Promise.resolve(known);
    if (signal?.aborted || withinMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      let waiters = this.waiting.get(approvalId);
      if (!waiters) {
        waiters = new Set();
        this.waiting.set(approvalId, waiters);
      }
      const onAbort = (): void => waiter.settle(null);
      const timer = setTimeout(onAbort, withinMs);
      const waiter: Waiter = {
        skip,
        settle: (decided) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const set = this.waiting.get(approvalId);
          set?.delete(waiter);
          if (set?.size === 0) this.waiting.delete(approvalId);
          resolve(decided);
        },
      };
      waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends every wait with null (shutdown): the holders give up and answer their clients. */
  releaseAll(): void {
    for (const set of [...this.waiting.values()]) for (const w of [...set]) w.settle(null);
  }

  get waiterCount(): number {
    let n = 0;
    for (const set of this.waiting.values()) n += set.size;
    return n;
  }

  get recentCount(): number {
    return this.recent.size;
  }

  private remember(decided: ApprovalDecided): void {
    const now = this.now();
    this.recent.delete(decided.approvalId);
    this.recent.set(decided.approvalId, { decided, at: now });
    for (const [id, entry] of this.recent) {
      if (this.recent.size <= this.maxRecent && entry.at > now - this.recentTtlMs) break;
      this.recent.delete(id);
    }
  }

  private recall(approvalId: string): ApprovalDecided | undefined {
    const entry = this.recent.get(approvalId);
    if (!entry) return undefined;
    if (entry.at <= this.now() - this.recentTtlMs) {
      this.recent.delete(approvalId);
      return undefined;
    }
    return entry.decided;
  }
}
