import type { DataSource } from 'typeorm';
import type { CheckpointSigner } from '../integrity/checkpoint-signer';
import { IntegrityRepository } from '../integrity/integrity.repository';
import { quoteIdent } from '../store/quote-ident';
import { dayOfPartition, droppedThrough, isExpired, planDrop, type DayPartition } from './retention-plan';

export interface RetentionResult {
  dropped: { name: string; day: string; events: number }[];
  /** Expired partitions kept because dropping them would leave a hole in a chain. */
  held: string[];
  checkpoints: number;
}

/**
 * Drops whole expired day partitions as the table owner, never single rows. In the same
 * transaction it stores, per chain, a signed retention checkpoint naming the last link dropped
 * and its hash: verification then starts the chain there.
 */
export async function runRetention(
  owner: DataSource,
  signer: CheckpointSigner,
  opts: { days: number; now: Date },
): Promise<RetentionResult> {
  const names: { name: string }[] = await owner.query(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'public.audit_event'::regclass ORDER BY 1`,
  );
  const expired: DayPartition[] = [];
  for (const { name } of names) {
    const day = dayOfPartition(name);
    if (day === undefined || !isExpired(day, opts.now, opts.days)) continue;
    const spans: { chain: number; min: string; max: string; n: string }[] = await owner.query(
      `SELECT chain, min(seq) AS min, max(seq) AS max, count(*) AS n FROM public.${quoteIdent(name)} GROUP BY chain`,
    );
    expired.push({
      name,
      day,
      spans: spans.map((s) => ({ chain: s.chain, minSeq: BigInt(s.min), maxSeq: BigInt(s.max), events: Number(s.n) })),
    });
  }
  if (expired.length === 0) return { dropped: [], held: [], checkpoints: 0 };

  const expiredNames = expired.map((p) => p.name);
  // The smallest link per chain in what stays: one index probe per partition and chain.
  const restMinSeq = new Map<number, bigint>();
  for (const { name } of names) {
    if (expiredNames.includes(name)) continue;
    const mins: { chain: number; min: string | null }[] = await owner.query(
      `SELECT h.chain, (SELECT min(seq) FROM public.${quoteIdent(name)} p WHERE p.chain = h.chain) AS min
         FROM audit_chain_head h`,
    );
    for (const m of mins) {
      if (m.min === null) continue;
      const seq = BigInt(m.min);
      const cur = restMinSeq.get(m.chain);
      if (cur === undefined || seq < cur) restMinSeq.set(m.chain, seq);
    }
  }
  const drop = planDrop(expired, restMinSeq);
  const held = expiredNames.filter((n) => !drop.some((p) => p.name === n));
  if (drop.length === 0) return { dropped: [], held, checkpoints: 0 };

  const through = droppedThrough(drop);
  let checkpoints = 0;
  await owner.transaction(async (tx) => {
    const repo = new IntegrityRepository(tx);
    for (const [chain, span] of through) {
      const link = await repo.linkAt(chain, span.maxSeq);
      if (!link) throw new Error(`link ${span.maxSeq} of chain ${chain} vanished during retention`);
      const signed = signer.sign({
        kind: 'retention',
        chain,
        seq: span.maxSeq.toString(),
        hash: link.hash.toString('hex'),
        createdAt: opts.now.toISOString(),
        details: {
          partitions: drop.map((p) => p.name),
          firstSeq: span.minSeq.toString(),
          events: span.events,
          retentionDays: opts.days,
        },
      });
      await repo.insertCheckpoint(signed);
      checkpoints++;
    }
    for (const p of drop) await tx.query(`DROP TABLE public.${quoteIdent(p.name)}`);
    // A session whose events were all in the dropped days has nothing left to replay: its summary goes too.
    for (const [first, last] of dayRuns(drop.map((p) => p.day))) {
      await tx.query(
        `DELETE FROM audit_session
          WHERE first_at >= ($1::date)::timestamp AT TIME ZONE 'UTC'
            AND last_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'`,
        [first, last],
      );
    }
  });
  return {
    dropped: drop.map((p) => ({ name: p.name, day: p.day, events: p.spans.reduce((n, s) => n + s.events, 0) })),
    held,
    checkpoints,
  };
}

/** Runs of consecutive UTC days (YYYY-MM-DD), each as its first and last day. */
export function dayRuns(days: string[]): Array<[string, string]> {
  const sorted = [...new Set(days)].sort();
  const runs: Array<[string, string]> = [];
  for (const d of sorted) {
    const last = runs.at(-1);
    if (last && Date.parse(`${d}T00:00:00Z`) - Date.parse(`${last[1]}T00:00:00Z`) === 86_400_000) last[1] = d;
    else runs.push([d, d]);
  }
  return runs;
}
