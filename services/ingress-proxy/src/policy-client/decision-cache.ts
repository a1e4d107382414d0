import type { PolicyDecision } from '@airlock/contracts';

interface Entry {
  decision: PolicyDecision;
  expiresAt: number;
}

/**
 * Decisions keyed on (principal, connection, operation fingerprint). Entries carry the policy
 * version they were made under; `invalidate` (on `airlock.policy.changed`) drops them all and
 * bumps a generation so an answer that was in flight across the change is not stored.
 */
export class DecisionCache {
  private readonly entries = new Map<string, Entry>();
  private generationCounter = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get generation(): number {
    return this.generationCounter;
  }

  get(key: string): PolicyDecision | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.decision;
  }

  /** Stores a decision unless the policy changed since `generation` was read. */
  set(key: string, decision: PolicyDecision, generation: number): void {
    if (this.maxEntries === 0 || generation !== this.generationCounter) return;
    if (this.entries.size >= this.maxEntries) {
      // Map iteration order is insertion order: drop the oldest.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { decision, expiresAt: this.now() + this.ttlMs });
  }

  invalidate(): void {
    this.generationCounter++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
