import { generateKeyPairSync } from 'node:crypto';
import { GENESIS_HASH, eventHash, type StoredLink } from './chain';
import { CheckpointSigner, CheckpointVerifier, type CheckpointKind } from './checkpoint-signer';
import type { IntegrityRepository, StoredCheckpoint } from './integrity.repository';
import { verifyStore } from './verify';

function newSigner(): CheckpointSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  return CheckpointSigner.fromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

/**
 * The store as `verifyStore` reads it, held in memory with the ordering and filtering the SQL of
 * IntegrityRepository gives. Tests tamper with its fields directly, as an attacker with write
 * access to the tables would.
 */
class MemoryStore {
  readonly links = new Map<number, StoredLink[]>();
  readonly heads = new Map<number, { seq: bigint; hash: Buffer }>();
  readonly checkpoints: StoredCheckpoint[] = [];
  readonly pageRequests: { chain: number; afterSeq: bigint; limit: number }[] = [];

  /** Appends `count` sound links to a chain and moves its head. */
  append(chain: number, count: number): StoredLink[] {
    const list = this.links.get(chain) ?? [];
    this.links.set(chain, list);
    const head = this.heads.get(chain) ?? { seq: 0n, hash: GENESIS_HASH };
    let previous = head.hash;
    let seq = head.seq;
    for (let i = 0; i < count; i++) {
      seq++;
      const event = { id: `c${chain}-e${seq}`, type: 'operation.completed', data: { seq: Number(seq) } };
      const hash = eventHash(previous, event);
      list.push({ seq, id: event.id, prevHash: previous, hash, event });
      previous = hash;
    }
    this.heads.set(chain, { seq, hash: previous });
    return list;
  }

  link(chain: number, seq: bigint): StoredLink {
    const found = this.links.get(chain)?.find((l) => l.seq === seq);
    if (!found) throw new Error(`no link ${seq} in chain ${chain}`);
    return found;
  }

  /** Deletes links, as dropping a partition or an attacker would. */
  remove(chain: number, keep: (seq: bigint) => boolean): void {
    this.links.set(
      chain,
      (this.links.get(chain) ?? []).filter((l) => keep(l.seq)),
    );
  }

  /** Replaces the links from `fromSeq` on with a consistent, rehashed rewrite. */
  rewriteFrom(chain: number, fromSeq: bigint): void {
    const list = this.links.get(chain) ?? [];
    for (let i = 0; i < list.length; i++) {
      if (list[i].seq < fromSeq) continue;
      const prevHash = i === 0 ? list[i].prevHash : list[i - 1].hash;
      const event = { ...(list[i].event as object), rewritten: true };
      list[i] = { ...list[i], prevHash, event, hash: eventHash(prevHash, event) };
    }
    const last = list[list.length - 1];
    this.heads.set(chain, { seq: last.seq, hash: last.hash });
  }

  checkpoint(signer: CheckpointSigner, kind: CheckpointKind, chain: number, seq: bigint): StoredCheckpoint {
    const signed = signer.sign({
      kind,
      chain,
      seq: seq.toString(),
      hash: this.link(chain, seq).hash.toString('hex'),
      createdAt: '2026-05-01T10:00:00.000Z',
      details: kind === 'retention' ? { firstSeq: '1', events: Number(seq) } : {},
    });
    this.checkpoints.push(signed);
    return signed;
  }

  repository(): IntegrityRepository {
    const repo: Pick<
      IntegrityRepository,
      | 'chains'
      | 'heads'
      | 'firstLink'
      | 'links'
      | 'linkAt'
      | 'latestHeadCheckpoints'
      | 'retentionCheckpoints'
      | 'deadLetters'
    > = {
      deadLetters: async () => ({ count: 0, latest: [] }),
      chains: async () =>
        [...new Set([...this.heads.keys(), ...this.checkpoints.map((c) => c.body.chain)])].sort((a, b) => a - b),
      heads: async () =>
        [...this.heads.entries()]
          .filter(([, h]) => h.seq > 0n)
          .sort(([a], [b]) => a - b)
          .map(([chain, h]) => ({ chain, ...h })),
      firstLink: async (chain) => {
        const first = this.sorted(chain)[0];
        return first ? { seq: first.seq, id: first.id } : undefined;
      },
      links: async (chain, afterSeq, limit) => {
        this.pageRequests.push({ chain, afterSeq, limit });
        return this.sorted(chain)
          .filter((l) => l.seq > afterSeq)
          .slice(0, limit);
      },
      linkAt: async (chain, seq) => {
        const l = this.links.get(chain)?.find((x) => x.seq === seq);
        return l ? { id: l.id, hash: l.hash } : undefined;
      },
      latestHeadCheckpoints: async () => {
        const latest = new Map<number, StoredCheckpoint>();
        for (const c of this.checkpoints.filter((x) => x.body.kind === 'head')) {
          const cur = latest.get(c.body.chain);
          if (!cur || BigInt(c.body.seq) >= BigInt(cur.body.seq)) latest.set(c.body.chain, c);
        }
        return [...latest.values()].sort((a, b) => a.body.chain - b.body.chain);
      },
      retentionCheckpoints: async () =>
        this.checkpoints
          .filter((c) => c.body.kind === 'retention')
          .sort((a, b) => a.body.chain - b.body.chain || Number(BigInt(a.body.seq) - BigInt(b.body.seq))),
    };
    return repo as IntegrityRepository;
  }

  private sorted(chain: number): StoredLink[] {
    return [...(this.links.get(chain) ?? [])].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  }
}

const now = new Date('2026-05-02T00:00:00.000Z');

describe('verifyStore', () => {
  const signer = newSigner();
  const verifier = new CheckpointVerifier([signer.publicKey]);
  let store: MemoryStore;

  beforeEach(() => {
    store = new MemoryStore();
  });

  it('finds sound chains sound and reports where each ends', async () => {
    store.append(0, 5);
    store.append(1, 3);
    store.checkpoint(signer, 'head', 0, 5n);
    store.checkpoint(signer, 'head', 1, 3n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(true);
    expect(report.verifiedAt).toBe('2026-05-02T00:00:00.000Z');
    expect(report.checkpoints).toEqual({ checked: 2, invalid: [] });
    expect(report.chains).toEqual([
      {
        chain: 0,
        ok: true,
        verified: 5,
        anchor: { kind: 'genesis', seq: '0' },
        lastSeq: '5',
        lastHash: store.link(0, 5n).hash.toString('hex'),
        brokenAt: null,
        truncated: null,
      },
      {
        chain: 1,
        ok: true,
        verified: 3,
        anchor: { kind: 'genesis', seq: '0' },
        lastSeq: '3',
        lastHash: store.link(1, 3n).hash.toString('hex'),
        brokenAt: null,
        truncated: null,
      },
    ]);
  });

  it('checks only the chain asked for', async () => {
    store.append(0, 2);
    store.append(4, 3);
    const report = await verifyStore(store.repository(), verifier, { chain: 4, now });
    expect(report.chains.map((c) => [c.chain, c.verified])).toEqual([[4, 3]]);
    expect(store.pageRequests.map((r) => r.chain)).toEqual([4]);
  });

  it('reports an edited row by sequence number and event id', async () => {
    store.append(0, 6);
    store.checkpoint(signer, 'head', 0, 6n);
    const row = store.link(0, 4n);
    row.event = { ...(row.event as object), data: { seq: 4, edited: true } };

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(false);
    expect(report.chains[0]).toMatchObject({
      ok: false,
      verified: 3,
      lastSeq: '3',
      brokenAt: { seq: '4', eventId: 'c0-e4', reason: 'hash does not match the stored event' },
      truncated: null,
    });
  });

  it('reports a chain whose first links are gone without a retention checkpoint as broken at its start', async () => {
    store.append(0, 8);
    store.remove(0, (seq) => seq > 3n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(false);
    expect(report.chains[0]).toMatchObject({
      ok: false,
      verified: 0,
      anchor: { kind: 'genesis', seq: '0' },
      lastSeq: null,
      lastHash: null,
      brokenAt: {
        seq: '4',
        eventId: 'c0-e4',
        reason: 'links 1 to 3 are missing and no signed retention checkpoint accounts for them',
      },
    });
    expect(store.pageRequests).toEqual([]);
  });

  it('starts a chain from the signed retention checkpoint that accounts for its dropped links', async () => {
    store.append(0, 8);
    store.checkpoint(signer, 'retention', 0, 3n);
    store.remove(0, (seq) => seq > 3n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(true);
    expect(report.chains[0]).toMatchObject({
      ok: true,
      verified: 5,
      anchor: { kind: 'retention', seq: '3' },
      lastSeq: '8',
      brokenAt: null,
    });
    expect(report.checkpoints).toEqual({ checked: 1, invalid: [] });
    expect(store.pageRequests[0]).toMatchObject({ chain: 0, afterSeq: 3n });
  });

  it('takes the retention checkpoint that ends right before the first link, after several retention runs', async () => {
    store.append(0, 10);
    store.checkpoint(signer, 'retention', 0, 2n);
    store.checkpoint(signer, 'retention', 0, 6n);
    store.remove(0, (seq) => seq > 6n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.chains[0]).toMatchObject({ ok: true, verified: 4, anchor: { kind: 'retention', seq: '6' } });
  });

  it('does not accept a retention checkpoint that ends elsewhere than right before the first link', async () => {
    store.append(0, 8);
    store.checkpoint(signer, 'retention', 0, 2n);
    store.remove(0, (seq) => seq > 3n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.chains[0].brokenAt).toMatchObject({
      seq: '4',
      reason: expect.stringMatching(/^links 1 to 3 are missing/),
    });
  });

  it('finds the first remaining link does not follow the hash a retention checkpoint vouches for', async () => {
    store.append(0, 8);
    store.checkpoint(signer, 'retention', 0, 3n);
    store.remove(0, (seq) => seq > 3n);
    // Links 4 to 8 rewritten into a sound chain of their own, hung from another hash.
    store.link(0, 4n).prevHash = Buffer.alloc(32, 7);
    store.rewriteFrom(0, 4n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.chains[0].brokenAt).toEqual({
      seq: '4',
      eventId: 'c0-e4',
      reason: 'previous hash does not match the hash of the link before',
    });
  });

  it('anchors a chain whose every link was dropped at its last retention checkpoint', async () => {
    store.append(0, 5);
    store.checkpoint(signer, 'retention', 0, 5n);
    store.remove(0, () => false);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(true);
    expect(report.chains[0]).toEqual({
      chain: 0,
      ok: true,
      verified: 0,
      anchor: { kind: 'retention', seq: '5' },
      lastSeq: null,
      lastHash: null,
      brokenAt: null,
      truncated: null,
    });
  });

  it('finds a deleted tail that a signed head checkpoint vouches for, though the rows left are sound', async () => {
    store.append(0, 10);
    store.checkpoint(signer, 'head', 0, 10n);
    store.remove(0, (seq) => seq <= 7n);
    // The attacker also winds the chain head back.
    store.heads.set(0, { seq: 7n, hash: store.link(0, 7n).hash });

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(false);
    expect(report.chains[0]).toMatchObject({ ok: false, verified: 7, lastSeq: '7', brokenAt: null });
    expect(report.chains[0].truncated).toEqual({
      expectedSeq: '10',
      lastSeq: '7',
      reason: 'a checkpoint signed at 2026-05-01T10:00:00.000Z vouches for link 10, but the chain ends at 7',
    });
  });

  it('holds the chain against the latest head checkpoint only', async () => {
    store.append(0, 4);
    store.checkpoint(signer, 'head', 0, 4n);
    store.append(0, 4);
    store.checkpoint(signer, 'head', 0, 8n);
    store.remove(0, (seq) => seq <= 6n);
    store.heads.set(0, { seq: 6n, hash: store.link(0, 6n).hash });

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.chains[0].truncated?.expectedSeq).toBe('8');
  });

  it('finds a deleted tail of a chain whose links were all deleted', async () => {
    store.append(0, 3);
    store.checkpoint(signer, 'head', 0, 3n);
    store.remove(0, () => false);
    store.heads.delete(0);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.chains[0]).toMatchObject({ ok: false, verified: 0, lastSeq: null });
    expect(report.chains[0].truncated).toEqual({
      expectedSeq: '3',
      lastSeq: null,
      reason: 'a checkpoint signed at 2026-05-01T10:00:00.000Z vouches for link 3, but the chain ends at its anchor',
    });
  });

  it('finds a chain rewritten consistently from before the link a head checkpoint vouches for', async () => {
    store.append(0, 6);
    store.checkpoint(signer, 'head', 0, 6n);
    store.rewriteFrom(0, 3n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(false);
    expect(report.chains[0]).toMatchObject({ verified: 6, brokenAt: null });
    expect(report.chains[0].truncated).toEqual({
      expectedSeq: '6',
      lastSeq: '6',
      reason: 'link 6 differs from the one a checkpoint signed at 2026-05-01T10:00:00.000Z vouches for',
    });
  });

  it('finds a rewrite vouched against by a head checkpoint older than the end of the chain', async () => {
    store.append(0, 5);
    store.checkpoint(signer, 'head', 0, 5n);
    store.append(0, 3);
    store.rewriteFrom(0, 2n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.chains[0]).toMatchObject({
      ok: false,
      verified: 8,
      truncated: { expectedSeq: '5', lastSeq: '8' },
    });
  });

  it('accepts links after the one the latest head checkpoint vouches for', async () => {
    store.append(0, 5);
    store.checkpoint(signer, 'head', 0, 5n);
    store.append(0, 3);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(true);
    expect(report.chains[0]).toMatchObject({ verified: 8, truncated: null });
  });

  it('finds a chain head that records more links than the chain holds', async () => {
    store.append(0, 12);
    store.remove(0, (seq) => seq <= 10n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(false);
    expect(report.chains[0]).toMatchObject({ ok: false, verified: 10, brokenAt: null });
    expect(report.chains[0].truncated).toEqual({
      expectedSeq: '12',
      lastSeq: '10',
      reason: 'the chain head records link 12, but the chain ends at 10',
    });
  });

  it('lists a head checkpoint with a bad signature as invalid and does not trust it', async () => {
    store.append(0, 5);
    const cp = store.checkpoint(signer, 'head', 0, 5n);
    cp.body.seq = '9';

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(false);
    expect(report.checkpoints).toEqual({
      checked: 1,
      invalid: [{ kind: 'head', chain: 0, seq: '9', problem: 'signature does not verify' }],
    });
    // Had it been trusted, the chain would look truncated at 9.
    expect(report.chains[0]).toMatchObject({ ok: true, verified: 5, truncated: null });
  });

  it('does not anchor a chain at a retention checkpoint signed with an unknown key', async () => {
    const stranger = newSigner();
    store.append(0, 6);
    store.checkpoint(stranger, 'retention', 0, 2n);
    store.remove(0, (seq) => seq > 2n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(false);
    expect(report.checkpoints.invalid).toEqual([
      { kind: 'retention', chain: 0, seq: '2', problem: `signed with unknown key ${stranger.keyId}` },
    ]);
    expect(report.chains[0]).toMatchObject({ anchor: { kind: 'genesis', seq: '0' }, brokenAt: { seq: '3' } });
  });

  it('reads a chain longer than one page in pages and verifies all of it', async () => {
    store.append(0, 4500);
    store.checkpoint(signer, 'head', 0, 4500n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.ok).toBe(true);
    expect(report.chains[0]).toMatchObject({ verified: 4500, lastSeq: '4500', truncated: null });
    expect(store.pageRequests.map((r) => [r.afterSeq, r.limit])).toEqual([
      [0n, 2000],
      [2000n, 2000],
      [4000n, 2000],
    ]);
  });

  it('reads past a page that ends exactly at the end of the chain', async () => {
    store.append(0, 4000);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.chains[0]).toMatchObject({ ok: true, verified: 4000, lastSeq: '4000' });
    expect(store.pageRequests.map((r) => r.afterSeq)).toEqual([0n, 2000n, 4000n]);
  });

  it('finds a break in a later page and stops reading there', async () => {
    store.append(0, 6500);
    const row = store.link(0, 3001n);
    row.event = { tampered: true };

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.chains[0]).toMatchObject({
      ok: false,
      verified: 3000,
      brokenAt: { seq: '3001', eventId: 'c0-e3001', reason: 'hash does not match the stored event' },
    });
    expect(store.pageRequests.map((r) => r.afterSeq)).toEqual([0n, 2000n]);
  });

  it('finds a gap across a page boundary', async () => {
    store.append(0, 4200);
    store.remove(0, (seq) => seq !== 2001n);

    const report = await verifyStore(store.repository(), verifier, { now });

    expect(report.chains[0].brokenAt).toEqual({
      seq: '2002',
      eventId: 'c0-e2002',
      reason: 'sequence 2001 to 2001 missing',
    });
  });
});
