import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { Topics } from '@airlock/contracts';
import { syntheticAuditEvent } from '@airlock/testing';
import type { RecorderConfig } from '../config';
import { AuditConsumer } from './audit.consumer';
import type { AppendResult, AuditRepository, ChainAppend, DeadLetterRow, PreparedLinks } from './audit.repository';
import type { ReceivedAuditEvent } from './received-events';
import { RecorderMetrics } from './recorder-metrics';

/**
 * The offset discipline of one partition, with the broker and the store replaced by recorders
 * of what is asked of them: the offset is committed only once every message of the batch is
 * stored or dead-lettered, and a failure of either reads the batch again.
 */
function harness(
  opts: {
    deadLetterFails?: boolean;
    storeRefuses?: (ids: string[]) => boolean;
    /** The first transaction, once linked, waits for this before it writes. */
    holdFirst?: Promise<void>;
  } = {},
) {
  const commits: string[] = [];
  const seeks: string[] = [];
  const sent: { topic: string; values: string[] }[] = [];
  const appends: { events: string[]; lastOffset: string; deadLetters: DeadLetterRow[] }[] = [];
  const consumer = {
    commitOffsets: async (o: { partition: number; offset: string }[]) =>
      void commits.push(...o.map((x) => (x.partition === 2 ? x.offset : `${x.partition}:${x.offset}`))),
    seek: (o: { partition: number; offset: string }) =>
      void seeks.push(o.partition === 2 ? o.offset : `${o.partition}:${o.offset}`),
  };
  const producer = {
    send: async (r: { topic: string; messages: { value: string }[] }) => {
      if (opts.deadLetterFails) throw new Error('broker unavailable');
      sent.push({ topic: r.topic, values: r.messages.map((m) => m.value) });
    },
  };
  const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka;
  const transactions: number[][] = [];
  const append = async (
    _chain: number,
    batch: ReceivedAuditEvent[],
    lastOffset: string,
    extra: { deadLetters?: DeadLetterRow[] } = {},
  ): Promise<AppendResult> => {
    const ids = batch.map((e) => e.id);
    if (opts.storeRefuses?.(ids))
      throw Object.assign(new Error('date/time field value out of range'), { code: '22008' });
    appends.push({ events: ids, lastOffset, deadLetters: extra.deadLetters ?? [] });
    return { stored: batch.length, deadLettered: extra.deadLetters?.length ?? 0, redelivered: 0, duplicates: 0 };
  };
  /** The last offsets of the windows linked ahead, and what each transaction was handed. */
  const prepares: string[][] = [];
  const handed: (PreparedLinks | undefined)[] = [];
  const repository = {
    append,
    prepare: async (appends: ChainAppend[]): Promise<PreparedLinks> => {
      prepares.push(appends.map((a) => a.lastOffset));
      return new Map(appends.map((a) => [a.chain, { lastOffset: a.lastOffset }])) as unknown as PreparedLinks;
    },
    appendChains: async (
      appends: ChainAppend[],
      o: { prepared?: PreparedLinks; onLinked?: () => void } = {},
    ): Promise<AppendResult[]> => {
      handed.push(o.prepared);
      o.onLinked?.();
      if (handed.length === 1 && opts.holdFirst) await opts.holdFirst;
      const results: AppendResult[] = [];
      for (const a of appends) results.push(await append(a.chain, a.batch, a.lastOffset, a));
      transactions.push(appends.map((a) => a.chain));
      return results;
    },
  } as unknown as AuditRepository;
  const config = {
    AUDIT_START_FROM: 'earliest',
    KAFKA_GROUP_PREFIX: 't',
    AUDIT_BATCH_WINDOW_MS: 60_000,
    AUDIT_BATCH_MAX_EVENTS: 100_000,
  } as RecorderConfig;
  const metrics = new RecorderMetrics();
  const c = new AuditConsumer(kafka, config, repository, {} as DataSource, metrics);
  const store = (messages: { value: string | null; offset: string }[], partition = 2): Promise<void> =>
    (c as unknown as { store(p: EachBatchPayload): Promise<void> }).store({
      batch: {
        topic: Topics.Audit,
        partition,
        messages: messages.map((m) => ({
          ...m,
          key: Buffer.from('k'),
          value: m.value === null ? null : Buffer.from(m.value),
        })),
        firstOffset: () => messages[0].offset,
        lastOffset: () => messages[messages.length - 1].offset,
        highWatermark: String(Number(messages[messages.length - 1].offset) + 1),
      },
      heartbeat: async () => undefined,
      resolveOffset: () => undefined,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  /** Closes the window the batches went into and waits for its store: true when it was stored. */
  const settled = async (): Promise<boolean> => {
    const internals = c as unknown as { close(): void; draining?: Promise<void>; pausedUntil: number };
    internals.close();
    await internals.draining;
    return internals.pausedUntil === 0;
  };
  const close = (): void => (c as unknown as { close(): void }).close();
  return { c, store, settled, close, commits, seeks, sent, appends, transactions, metrics, prepares, handed };
}

const session = '019c0000-0000-7000-8000-000000000002';
const valid = (): string => JSON.stringify(syntheticAuditEvent(session));

describe('the audit consumer moves past a message only once it is stored or dead-lettered', () => {
  it('dead-letters a malformed message, stores the rest, and commits after both', async () => {
    const h = harness();
    const good = [valid(), valid()];
    await h.store([
      { value: good[0], offset: '10' },
      { value: '{"not":"an event"}', offset: '11' },
      { value: good[1], offset: '12' },
    ]);
    expect(await h.settled()).toBe(true);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0].topic).toBe(Topics.AuditDeadLetter);
    expect(JSON.parse(h.sent[0].values[0])).toMatchObject({ stage: 'contract', partition: 2, offset: '11' });
    expect(h.appends).toEqual([
      {
        events: good.map((g) => (JSON.parse(g) as { id: string }).id),
        lastOffset: '12',
        deadLetters: [expect.objectContaining({ offset: '11', stage: 'contract' })],
      },
    ]);
    expect(h.commits).toEqual(['13']);
    expect(h.c.stats).toMatchObject({ rejected: 1, deadLettered: 1, stored: 2 });
  });

  it('neither stores nor commits when the dead letter cannot be published, and reads the batch again', async () => {
    const h = harness({ deadLetterFails: true });
    await h.store([
      { value: valid(), offset: '20' },
      { value: null, offset: '21' },
    ]);
    expect(await h.settled()).toBe(false);
    expect(h.appends).toEqual([]);
    expect(h.commits).toEqual([]);
    expect(h.seeks).toEqual(['20']);
  });

  it('stores a batch the store refused one event at a time, dead-lettering only the refused one', async () => {
    const events = [valid(), valid(), valid()];
    const refusedId = (JSON.parse(events[1]) as { id: string }).id;
    const h = harness({ storeRefuses: (ids) => ids.includes(refusedId) });
    await h.store(events.map((value, i) => ({ value, offset: String(30 + i) })));
    expect(await h.settled()).toBe(true);
    expect(h.appends.map((a) => [a.events.length, a.lastOffset, a.deadLetters.map((d) => d.stage)])).toEqual([
      [1, '30', []],
      [0, '31', ['store']],
      [1, '32', []],
    ]);
    expect(JSON.parse(h.sent[0].values[0])).toMatchObject({ stage: 'store', offset: '31', eventId: refusedId });
    expect(h.commits).toEqual(['33']);
  });

  it('stores what several fetches of several partitions brought in one transaction, and commits them together', async () => {
    const h = harness();
    await h.store([{ value: valid(), offset: '40' }]);
    await h.store([{ value: valid(), offset: '7' }], 5);
    await h.store([
      { value: valid(), offset: '41' },
      { value: valid(), offset: '42' },
    ]);
    expect(h.appends).toEqual([]);
    expect(await h.settled()).toBe(true);
    expect(h.transactions).toEqual([[2, 5]]);
    expect(h.appends.map((a) => [a.events.length, a.lastOffset])).toEqual([
      [3, '42'],
      [1, '7'],
    ]);
    expect(h.commits).toEqual(['43', '5:8']);
  });

  it('reads every partition of a failed window again from its first message in it', async () => {
    const h = harness({ deadLetterFails: true });
    await h.store([{ value: valid(), offset: '50' }]);
    await h.store([{ value: null, offset: '9' }], 5);
    await h.store([{ value: valid(), offset: '51' }]);
    expect(await h.settled()).toBe(false);
    expect(h.appends).toEqual([]);
    expect(h.commits).toEqual([]);
    expect(h.seeks).toEqual(['50', '5:9']);
  });

  it('stores a large window as two transactions of half its partitions each', async () => {
    const h = harness();
    const many = (from: number): { value: string; offset: string }[] =>
      Array.from({ length: 1000 }, (_, i) => ({ value: valid(), offset: String(from + i) }));
    await h.store(many(0), 1);
    await h.store(many(0), 2);
    expect(await h.settled()).toBe(true);
    expect(await h.metrics.text()).toContain('airlock_recorder_batches_total 1\n');
    expect(h.transactions.sort()).toEqual([[1], [2]]);
    expect(h.commits).toEqual(['1:1000', '1000']);
  });

  it('links the next window ahead while the one before it is written, and hands those links to its transaction', async () => {
    let release!: () => void;
    const h = harness({ holdFirst: new Promise<void>((r) => (release = r)) });
    await h.store([{ value: valid(), offset: '60' }]);
    h.close();
    // The first window is linked and writing; the second closes meanwhile and is linked ahead.
    await h.store([{ value: valid(), offset: '61' }]);
    h.close();
    await new Promise((r) => setImmediate(r));
    expect(h.prepares).toEqual([['61']]);
    expect(h.appends).toEqual([]);
    release();
    expect(await h.settled()).toBe(true);
    expect(h.handed).toEqual([undefined, new Map([[2, { lastOffset: '61' }]])]);
    expect(h.commits).toEqual(['61', '62']);
  });

  it('links nothing ahead when the store keeps up: each window is linked in its own transaction', async () => {
    const h = harness();
    for (const offset of ['70', '71', '72']) {
      await h.store([{ value: valid(), offset }]);
      expect(await h.settled()).toBe(true);
    }
    expect(h.prepares).toEqual([]);
    expect(h.handed).toEqual([undefined, undefined, undefined]);
  });
});
