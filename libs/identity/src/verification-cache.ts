import type { Principal } from '@airlock/contracts';

interface Entry {
  principal: Principal;
  /** Epoch ms after which the entry must not be served. */
  validUntil: number;
}

/**
 * Bounded LRU of successful verifications. Callers key it by a digest of the token, so the
 * token itself is never kept. Expiry is checked against the caller's clock on every read.
 */
export class VerificationCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): Principal | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      return undefined;
    }
    this.entries.delete(key);
    if (now >= entry.validUntil) {
      return undefined;
    }
    // Re-insert to mark it most recently used (Map iterates in insertion order).
    this.entries.set(key, entry);
    return copy(entry.principal);
  }

  set(key: string, principal: Principal, validUntil: number, now: number): void {
    if (this.capacity === 0 || validUntil <= now) {
      return;
    }
    this.entries.delete(key);
    while (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) {
        break;
      }
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { principal: copy(principal), validUntil });
  }

  clear(): void {
    this.entries.clear();
  }
}

// Callers get their own copy so that nobody can alter what the next request will see.
function copy(principal: Principal): Principal {
  return { issuer: principal.issuer, subject: principal.subject, groups: [...principal.groups] };
}
