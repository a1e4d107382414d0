/** What a day partition holds of one chain. */
export interface ChainSpan {
  chain: number;
  minSeq: bigint;
  maxSeq: bigint;
  events: number;
}

export interface DayPartition {
  name: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  spans: ChainSpan[];
}

const DAY_MS = 86_400_000;

/** A partition's day has ended more than `days` ago. */
export function isExpired(day: string, now: Date, days: number): boolean {
  const end = Date.parse(`${day}T00:00:00Z`) + DAY_MS;
  return end <= now.getTime() - days * DAY_MS;
}

/** The partition name of a UTC day, and back. */
export function partitionName(day: string): string {
  return `audit_event_${day.replace(/-/g, '')}`;
}

export function dayOfPartition(name: string): string | undefined {
  const m = /^audit_event_(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/**
 * Chooses which expired partitions to drop: the oldest ones, as many as can go while what goes
 * is, in every chain, a prefix of what stays. A late event stored in an old partition after
 * newer ones would otherwise leave a hole in its chain; its partition waits until the newer ones
 * holding its predecessors expire too. `restMinSeq` gives, per chain, the smallest sequence
 * number in the partitions that are not expired.
 */
export function planDrop(expired: DayPartition[], restMinSeq: Map<number, bigint>): DayPartition[] {
  const byAge = [...expired].sort((a, b) => a.day.localeCompare(b.day));
  for (let k = byAge.length; k > 0; k--) {
    const drop = byAge.slice(0, k);
    const keep = [...byAge.slice(k)];
    const minKept = new Map(restMinSeq);
    for (const p of keep) {
      for (const s of p.spans) {
        const m = minKept.get(s.chain);
        if (m === undefined || s.minSeq < m) minKept.set(s.chain, s.minSeq);
      }
    }
    const isPrefix = drop.every((p) =>
      p.spans.every((s) => {
        const m = minKept.get(s.chain);
        return m === undefined || s.maxSeq < m;
      }),
    );
    if (isPrefix) return drop;
  }
  return [];
}

/** Per chain, the last link that dropping `partitions` removes and how many events go. */
export function droppedThrough(
  partitions: DayPartition[],
): Map<number, { maxSeq: bigint; minSeq: bigint; events: number }> {
  const out = new Map<number, { maxSeq: bigint; minSeq: bigint; events: number }>();
  for (const p of partitions) {
    for (const s of p.spans) {
      const cur = out.get(s.chain);
      out.set(s.chain, {
        maxSeq: cur && cur.maxSeq > s.maxSeq ? cur.maxSeq : s.maxSeq,
        minSeq: cur && cur.minSeq < s.minSeq ? cur.minSeq : s.minSeq,
        events: (cur?.events ?? 0) + s.events,
      });
    }
  }
  return out;
}
