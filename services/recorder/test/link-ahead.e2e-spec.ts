import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { uuidv7 } from '@airlock/contracts';
import { TestDatabase, syntheticAuditEvent } from '@airlock/testing';
import { ReceivedBatch } from '../src/audit/received-events';
import { AuditRepository, type ChainAppend } from '../src/audit/audit.repository';
import { ChainWalker, GENESIS_HASH } from '../src/integrity/chain';
import { ownerOptions, roleOf, writerOptions } from '../src/store/store.options';
import { prepareStore } from '../src/store/store-setup';

/**
 * Linking a window ahead of its transaction, on the real PostgreSQL, with two writers on the
 * same chains (two recorders of a group across a rebalance): a batch linked ahead is used only
 * when the head under the lock is the one it was linked after, so however the writers
 * interleave, each chain holds every event once, in Kafka order, and verifies.
 */
describe('linking ahead of the lock', () => {
  let db: TestDatabase;
  let owner: DataSource;
  let writer: DataSource;
  let nextChain = 0;

  /** Consecutive batches of one chain, `size` events each, from Kafka offset 0, each received as one fetch. */
  function batches(chain: number, count: number, size: number): ChainAppend[] {
    const session = uuidv7();
    return Array.from({ length: count }, (_, b) => {
      const received = new ReceivedBatch(size);
      const batch = Array.from({ length: size }, (_, i) => {
        const offset = String(b * size + i);
        return received.receive(Buffer.from(JSON.stringify(syntheticAuditEvent(session))), null, offset);
      });
      return { chain, batch, firstOffset: batch[0].offset, lastOffset: batch[size - 1].offset };
    });
  }

  /** The chain's stored links in order, walked from the genesis. */
  async function walk(chain: number): Promise<{ offsets: string[]; ids: string[]; walker: ChainWalker }> {
    const rows = await writer.query<
      { seq: string; id: string; prev_hash: Buffer; hash: Buffer; event: unknown; kafka_offset: string }[]
    >('SELECT seq, id, prev_hash, hash, event, kafka_offset FROM audit_event WHERE chain = $1 ORDER BY seq', [chain]);
    const walker = new ChainWalker({ kind: 'genesis', seq: 0n, hash: GENESIS_HASH });
    walker.next(
      rows.map((r) => ({
        seq: BigInt(r.seq),
        id: r.id,
        prevHash: r.prev_hash,
        hash: r.hash,
        event: r.event,
      })),
    );
    return { offsets: rows.map((r) => r.kafka_offset), ids: rows.map((r) => r.id), walker };
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await TestDatabase.create('airlock_link_ahead');
    owner = await new DataSource(
      ownerOptions({ DATABASE_URL: db.recorderUrl, DATABASE_OWNER_URL: db.url } as never),
    ).initialize();
    await prepareStore(owner, roleOf(db.recorderUrl));
    writer = await new DataSource(writerOptions({ DATABASE_URL: db.recorderUrl } as never)).initialize();
  });

  afterAll(async () => {
    await writer?.destroy();
    await owner?.destroy();
    await db?.drop();
  });

  it('uses a batch linked after the head the transaction before it leaves', async () => {
    const repo = new AuditRepository(writer);
    const chain = nextChain++;
    const [first, second] = batches(chain, 2, 50);
    await repo.appendChains([first]);
    const prepared = await repo.prepare([second]);
    expect([...prepared.keys()]).toEqual([chain]);
    const [result] = await repo.appendChains([second], { prepared });
    expect(result).toMatchObject({ stored: 50, redelivered: 0 });
    expect(repo.linkStats).toEqual({ linkedAhead: 1, linkedAgain: 0 });
    const { offsets, walker } = await walk(chain);
    expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(walker.result).toMatchObject({ verified: 100, brokenAt: null });
  });

  it('links again under the lock when another writer moved the head: no fork, nothing doubled', async () => {
    const a = new AuditRepository(writer);
    const b = new AuditRepository(writer);
    const chain = nextChain++;
    const [first, second, third] = batches(chain, 3, 20);
    await a.appendChains([first]);
    // A links its next two batches ahead; meanwhile the partition moved to B, which stored the second.
    const secondAhead = await a.prepare([second]);
    await b.appendChains([second]);
    const [again] = await a.appendChains([second], { prepared: secondAhead });
    expect(again).toMatchObject({ stored: 0, redelivered: 20 });
    const thirdAhead = await b.prepare([third]);
    await a.appendChains([third]);
    const [late] = await b.appendChains([third], { prepared: thirdAhead });
    expect(late).toMatchObject({ stored: 0, redelivered: 20 });
    expect(a.linkStats.linkedAgain + b.linkStats.linkedAgain).toBe(2);
    const { offsets, walker } = await walk(chain);
    expect(offsets).toEqual(Array.from({ length: 60 }, (_, i) => String(i)));
    expect(walker.result).toMatchObject({ verified: 60, brokenAt: null });
  });

  it('keeps every chain whole under generated interleavings of two writers linking ahead', async () => {
    // A step: which writer stores which batch (a later one, or one already stored: a redelivery),
    // and whether it links it ahead, perhaps before the other writer's step.
    const step = fc.record({
      writer: fc.constantFrom(0, 1),
      batch: fc.nat(5),
      ahead: fc.constantFrom('none', 'just-before', 'before-the-other'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const chain = nextChain++;
        const all = batches(chain, 6, 4);
        const writers = [new AuditRepository(writer), new AuditRepository(writer)];
        // Kafka order per writer: a writer never goes back before what it has read (but may get
        // a batch the other stored, or one it stored itself, again).
        let stored = -1;
        for (let i = 0; i < steps.length; i++) {
          const s = steps[i];
          const index = Math.min(s.batch, stored + 1);
          const append = all[index];
          const repo = writers[s.writer];
          let prepared;
          if (s.ahead === 'before-the-other' && i + 1 < steps.length) {
            prepared = await repo.prepare([append]);
            const o = steps[i + 1];
            const otherIndex = Math.min(o.batch, stored + 1);
            await writers[1 - s.writer].appendChains([all[otherIndex]]);
            stored = Math.max(stored, otherIndex);
            i++;
          } else if (s.ahead !== 'none') {
            prepared = await repo.prepare([append]);
          }
          await repo.appendChains([append], { prepared });
          stored = Math.max(stored, index);
        }
        const { offsets, ids, walker } = await walk(chain);
        const expected = all.slice(0, stored + 1).flatMap((a) => a.batch);
        expect(offsets).toEqual(expected.map((e) => e.offset));
        expect(ids).toEqual(expected.map((e) => e.id));
        expect(walker.result).toMatchObject({ verified: expected.length, brokenAt: null });
        const [head] = await writer.query<{ seq: string; hash: Buffer }[]>(
          'SELECT seq, hash FROM audit_chain_head WHERE chain = $1',
          [chain],
        );
        expect(head.seq).toBe(String(expected.length));
        expect(head.hash.toString('hex')).toBe(walker.result.lastHash);
      }),
      { numRuns: 25 },
    );
  });
});
