import { ChainWalker, GENESIS_HASH, type BrokenLink, type ChainAnchor } from './chain';
import type { CheckpointVerifier } from './checkpoint-signer';
import type { DeadLetterSummary, IntegrityRepository, StoredCheckpoint } from './integrity.repository';

export interface ChainReport {
  chain: number;
  ok: boolean;
  /** Links checked and found sound. */
  verified: number;
  /** Where the walk started: the chain's beginning, or a signed retention checkpoint. */
  anchor: { kind: ChainAnchor['kind']; seq: string };
  lastSeq: string | null;
  lastHash: string | null;
  /** The first broken link: sequence number, event id and what is wrong. */
  brokenAt: BrokenLink | null;
  /** The chain ends before a link that a signed checkpoint (or the chain head) vouches for. */
  truncated: { expectedSeq: string; lastSeq: string | null; reason: string } | null;
}

export interface VerifyReport {
  ok: boolean;
  verifiedAt: string;
  chains: ChainReport[];
  checkpoints: { checked: number; invalid: { kind: string; chain: number; seq: string; problem: string }[] };
  /**
   * Messages of airlock.audit that are not in the store because it could not take them; each is
   * on airlock.audit.deadletter. They do not break a chain (the chain never held them), so they
   * do not make `ok` false: a count above zero means the stream held events the store does not.
   */
  deadLetters: DeadLetterSummary;
}

/** How many of the latest dead letters the report shows. */
const DEAD_LETTERS_SHOWN = 20;

const PAGE = 2000;

/**
 * Walks every chain (or one) from its anchor to its end and checks each link, then holds the end
 * against the latest signed head checkpoint, so a deleted tail is found even when the rows left
 * are a sound chain.
 */
export async function verifyStore(
  repo: IntegrityRepository,
  verifier: CheckpointVerifier,
  opts: { chain?: number; now?: Date } = {},
): Promise<VerifyReport> {
  const chains = opts.chain === undefined ? await repo.chains() : [opts.chain];
  const heads = new Map((await repo.heads()).map((h) => [h.chain, h]));
  const invalid: VerifyReport['checkpoints']['invalid'] = [];
  let checked = 0;
  const trusted = (cps: StoredCheckpoint[]): StoredCheckpoint[] =>
    cps.filter((cp) => {
      checked++;
      const problem = verifier.problem(cp.body, cp.signature);
      if (problem) invalid.push({ kind: cp.body.kind, chain: cp.body.chain, seq: cp.body.seq, problem });
      return problem === undefined;
    });
  const retention = trusted(await repo.retentionCheckpoints());
  const latestHeads = trusted(await repo.latestHeadCheckpoints());

  const reports: ChainReport[] = [];
  for (const chain of chains) {
    const dropped = retention.filter((cp) => cp.body.chain === chain);
    const first = await repo.firstLink(chain);
    let anchor: ChainAnchor = { kind: 'genesis', seq: 0n, hash: GENESIS_HASH };
    let brokenAtStart: BrokenLink | null = null;
    if (first === undefined) {
      const last = dropped.at(-1);
      if (last) anchor = { kind: 'retention', seq: BigInt(last.body.seq), hash: Buffer.from(last.body.hash, 'hex') };
    } else if (first.seq !== 1n) {
      const cp = dropped.find((c) => BigInt(c.body.seq) === first.seq - 1n);
      if (cp) anchor = { kind: 'retention', seq: BigInt(cp.body.seq), hash: Buffer.from(cp.body.hash, 'hex') };
      else {
        brokenAtStart = {
          seq: first.seq.toString(),
          eventId: first.id,
          reason: `links 1 to ${first.seq - 1n} are missing and no signed retention checkpoint accounts for them`,
        };
      }
    }

    const walker = new ChainWalker(anchor);
    if (!brokenAtStart) {
      for (let after = anchor.seq; ; ) {
        const page = await repo.links(chain, after, PAGE);
        if (page.length === 0 || !walker.next(page) || page.length < PAGE) break;
        after = page[page.length - 1].seq;
      }
    }
    const walked = walker.result;
    const brokenAt = brokenAtStart ?? walked.brokenAt;
    const endSeq = walked.lastSeq === null ? anchor.seq : BigInt(walked.lastSeq);

    let truncated: ChainReport['truncated'] = null;
    const cp = latestHeads.find((c) => c.body.chain === chain);
    if (!brokenAt && cp && BigInt(cp.body.seq) > anchor.seq) {
      const vouched = BigInt(cp.body.seq);
      if (endSeq < vouched) {
        truncated = {
          expectedSeq: vouched.toString(),
          lastSeq: walked.lastSeq,
          reason: `a checkpoint signed at ${cp.body.createdAt} vouches for link ${vouched}, but the chain ends at ${walked.lastSeq ?? 'its anchor'}`,
        };
      } else {
        const link = await repo.linkAt(chain, vouched);
        if (!link || link.hash.toString('hex') !== cp.body.hash) {
          truncated = {
            expectedSeq: vouched.toString(),
            lastSeq: walked.lastSeq,
            reason: `link ${vouched} differs from the one a checkpoint signed at ${cp.body.createdAt} vouches for`,
          };
        }
      }
    }
    const head = heads.get(chain);
    if (!brokenAt && !truncated && head && head.seq > endSeq) {
      truncated = {
        expectedSeq: head.seq.toString(),
        lastSeq: walked.lastSeq,
        reason: `the chain head records link ${head.seq}, but the chain ends at ${walked.lastSeq ?? 'its anchor'}`,
      };
    }
    reports.push({
      chain,
      ok: !brokenAt && !truncated,
      verified: walked.verified,
      anchor: { kind: anchor.kind, seq: anchor.seq.toString() },
      lastSeq: walked.lastSeq,
      lastHash: walked.lastSeq === null ? null : walked.lastHash,
      brokenAt,
      truncated,
    });
  }
  return {
    ok: invalid.length === 0 && reports.every((r) => r.ok),
    verifiedAt: (opts.now ?? new Date()).toISOString(),
    chains: reports,
    checkpoints: { checked, invalid },
    deadLetters: await repo.deadLetters(opts.chain, DEAD_LETTERS_SHOWN),
  };
}
