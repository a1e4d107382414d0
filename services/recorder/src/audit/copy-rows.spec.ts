import fc from 'fast-check';
import type { AuditEvent } from '@airlock/contracts';
import { syntheticAuditEvent } from '@airlock/testing';
import { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, CopyRows, EventWriter, copyData, storedForm } from './copy-rows';

/** Binary COPY rows read back: each row its values (null for NULL), in column order. */
function readRows(data: Buffer): (Buffer | null)[][] {
  const rows: (Buffer | null)[][] = [];
  let at = 0;
  while (at < data.length) {
    const count = data.readInt16BE(at);
    at += 2;
    const row: (Buffer | null)[] = [];
    for (let i = 0; i < count; i++) {
      const length = data.readInt32BE(at);
      at += 4;
      row.push(length < 0 ? null : data.subarray(at, at + length));
      if (length > 0) at += length;
    }
    rows.push(row);
  }
  return rows;
}

/** A text[] value read back: its elements. */
function readTextArray(value: Buffer): string[] {
  const dims = value.readInt32BE(0);
  expect(value.readInt32BE(4)).toBe(0); // no NULLs
  expect(value.readInt32BE(8)).toBe(25); // text
  if (dims === 0) return [];
  expect(dims).toBe(1);
  expect(value.readInt32BE(16)).toBe(1); // lower bound
  const items: string[] = [];
  let at = 20;
  for (let i = 0; i < value.readInt32BE(12); i++) {
    const length = value.readInt32BE(at);
    items.push(value.toString('utf8', at + 4, at + 4 + length));
    at += 4 + length;
  }
  expect(at).toBe(value.length);
  return items;
}

const uuidBytes = (id: string): Buffer => Buffer.from(id.replace(/-/g, ''), 'hex');
const int64 = (b: Buffer | null): bigint => b!.readBigInt64BE(0);
const column = (row: (Buffer | null)[], name: (typeof COPY_COLUMNS)[number]): Buffer | null =>
  row[COPY_COLUMNS.indexOf(name)];

/** A row as the store gets it: an event as received (its message as kept), its link and its offset. */
interface Row {
  event: AuditEvent;
  raw: Buffer | string;
  chain: number;
  seq: string;
  prevHash: string;
  hash: string;
  offset: string;
}

describe('binary COPY rows, written as each event is received', () => {
  const base: AuditEvent = {
    ...syntheticAuditEvent('0190f0a0-0000-7000-8000-000000000001'),
    time: '2026-01-01T00:00:00.250Z',
  };
  const row = (over: Partial<Row> = {}): Row => ({
    event: base,
    raw: Buffer.from(JSON.stringify(base)),
    chain: 5,
    seq: '12345678901',
    prevHash: Buffer.from(Array.from({ length: 32 }, (_, i) => i * 8)).toString('hex'),
    hash: Buffer.from(Array.from({ length: 32 }, (_, i) => 255 - i)).toString('hex'),
    offset: '98765',
    ...over,
  });
  /** Each row written as its event is received (in buffers of `receivedSize`), then its tail as it is linked. */
  const writtenIn = (rows: Row[], receivedSize?: number): Buffer[] => {
    const writer = new EventWriter(receivedSize);
    const placed = rows.map((r) => {
      writer.write(r.event, r.raw, JSON.stringify(r.event));
      return { ...writer.lastWritten(), offset: r.offset };
    });
    const out = new CopyRows();
    rows.forEach((r, i) => out.row(placed[i], r.chain, r.seq, r.prevHash, r.hash));
    return out.chunks();
  };
  const written = (rows: Row[]): Buffer => Buffer.concat(writtenIn(rows));

  it('writes every column in its binary form', () => {
    const r = row();
    const [cols] = readRows(written([r]));
    expect(cols).toHaveLength(COPY_COLUMNS.length);
    expect(column(cols, 'id')).toEqual(uuidBytes(base.id));
    expect(column(cols, 'type')!.toString()).toBe(base.type);
    expect(column(cols, 'schema_version')!.readInt32BE(0)).toBe(base.schemaVersion);
    // Microseconds since 2000-01-01 UTC.
    expect(int64(column(cols, 'time'))).toBe(
      BigInt(Date.parse(base.time) - Date.parse('2000-01-01T00:00:00Z')) * 1000n,
    );
    expect(column(cols, 'session_id')).toEqual(uuidBytes(base.sessionId));
    expect(column(cols, 'request_id')).toEqual(uuidBytes(base.requestId));
    expect(column(cols, 'actor_issuer')!.toString()).toBe(base.actor!.issuer);
    expect(column(cols, 'actor_subject')!.toString()).toBe(base.actor!.subject);
    expect(readTextArray(column(cols, 'actor_groups')!)).toEqual(base.actor!.groups);
    expect(column(cols, 'connection')!.toString()).toBe(base.connection);
    expect(column(cols, 'protocol')!.toString()).toBe(base.protocol);
    expect(column(cols, 'source')!.toString()).toBe(base.source);
    expect(column(cols, 'event')).toEqual(r.raw);
    expect(column(cols, 'chain')!.readInt32BE(0)).toBe(5);
    expect(int64(column(cols, 'seq'))).toBe(12345678901n);
    expect(column(cols, 'prev_hash')!.toString('hex')).toBe(r.prevHash);
    expect(column(cols, 'hash')!.toString('hex')).toBe(r.hash);
    expect(int64(column(cols, 'kafka_offset'))).toBe(98765n);
  });

  it("keeps the link's input apart from the row: 32 bytes for the previous hash, then the canonical form", () => {
    const writer = new EventWriter();
    writer.write(base, Buffer.from('{}'), 'canonical ✓');
    const w = writer.lastWritten();
    expect(w.linkEnd - w.linkAt).toBe(32 + Buffer.byteLength('canonical ✓'));
    expect(w.linkBytes.toString('utf8', w.linkAt + 32, w.linkEnd)).toBe('canonical ✓');
    expect(w.rowBytes.readInt16BE(w.rowAt)).toBe(COPY_COLUMNS.length);
  });

  it('writes NULL for the actor and its groups of an unauthenticated caller, and for no connection', () => {
    const [cols] = readRows(written([row({ event: { ...base, actor: null, connection: null } })]));
    for (const name of ['actor_issuer', 'actor_subject', 'actor_groups', 'connection'] as const) {
      expect({ name, value: column(cols, name) }).toEqual({ name, value: null });
    }
  });

  it('writes sequence numbers and offsets past 15 digits exactly', () => {
    const [cols] = readRows(written([row({ seq: '9007199254740993', offset: '9223372036854775807' })]));
    expect(int64(column(cols, 'seq'))).toBe(9007199254740993n);
    expect(int64(column(cols, 'kafka_offset'))).toBe(9223372036854775807n);
  });

  it('writes the same bytes whether the event is copied from its bytes or written from its text', () => {
    const text = '{"path":"/ümlaut/😀","q":"a\\\\b\\n\\t"}';
    const unicode = row({
      event: {
        ...base,
        actor: { issuer: 'https://idp.tést', subject: 'agent "ø"\tx', groups: ['a"b', 'c\\d', '日本', ''] },
      },
    });
    for (const r of [row(), unicode]) {
      expect(written([{ ...r, raw: storedForm(Buffer.from(text), text) }])).toEqual(written([{ ...r, raw: text }]));
    }
    const [cols] = readRows(written([{ ...unicode, raw: text }]));
    expect(column(cols, 'event')!.toString()).toBe(text);
    expect(column(cols, 'actor_issuer')!.toString()).toBe('https://idp.tést');
    expect(column(cols, 'actor_subject')!.toString()).toBe('agent "ø"\tx');
    expect(readTextArray(column(cols, 'actor_groups')!)).toEqual(['a"b', 'c\\d', '日本', '']);
  });

  it('keeps the bytes as they arrived when they are valid UTF-8, and the text as decoded when they are not', () => {
    const good = Buffer.from('{"x":"é"}');
    expect(storedForm(good, good.toString('utf8'))).toBe(good);
    const bad = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const kept = storedForm(bad, bad.toString('utf8'));
    expect(kept).toContain('\ufffd');
    const [cols] = readRows(written([row({ raw: kept })]));
    expect(column(cols, 'event')!.toString()).toBe(kept);
  });

  it('writes each row with its own groups, whatever the groups of the row before it', () => {
    // Groups from a small pool, so neighbours are often equal, a prefix of each other, or empty.
    const groups = fc.array(fc.constantFrom('agents', 'ops', 'a"b', ''), { maxLength: 3 });
    const actor = fc.option(
      groups.map((g) => ({ issuer: 'https://idp.test', subject: 'agent', groups: g })),
      { freq: 4 },
    );
    fc.assert(
      fc.property(fc.array(actor, { minLength: 1, maxLength: 12 }), (actors) => {
        const rows = readRows(written(actors.map((a) => row({ event: { ...base, actor: a } }))));
        expect(
          rows.map((cols) => column(cols, 'actor_groups') && readTextArray(column(cols, 'actor_groups')!)),
        ).toEqual(actors.map((a) => a?.groups ?? null));
      }),
    );
  });

  it('sends rows that lie one after another as one piece, and each piece as whole rows', () => {
    const rows = Array.from({ length: 50 }, (_, i) =>
      row({ seq: String(i + 1), raw: Buffer.from(JSON.stringify({ ...base, n: 'x'.repeat(i * 37) })) }),
    );
    // Buffers of 1 KB: a row of its own in most.
    const small = writtenIn(rows, 1024);
    expect(small.length).toBeGreaterThan(10);
    const large = writtenIn(rows, 1024 * 1024);
    expect(large).toHaveLength(1);
    for (const chunks of [small, large]) {
      // Every piece reads as whole rows on its own.
      const pieces = chunks.map((c) => readRows(c));
      expect(pieces.flat().map((cols) => int64(column(cols, 'seq')))).toEqual(rows.map((_, i) => BigInt(i + 1)));
    }
    expect(Buffer.concat(small)).toEqual(Buffer.concat(large));
  });

  it('leaves out a row between two that are linked, and writes a tail again where it lies when linked again', () => {
    const writer = new EventWriter(64 * 1024);
    const placed = [1, 2, 3].map((n) => {
      writer.write(base, Buffer.from(`{"n":${n}}`), 'c');
      return { ...writer.lastWritten(), offset: String(n) };
    });
    const link = (seq: string): Buffer[] => {
      const out = new CopyRows();
      out.row(placed[0], 1, seq, 'aa'.repeat(32), 'bb'.repeat(32));
      out.row(placed[2], 1, seq, 'cc'.repeat(32), 'dd'.repeat(32));
      return out.chunks();
    };
    link('7');
    const chunks = link('9');
    expect(chunks).toHaveLength(2);
    const read = chunks.flatMap((c) => readRows(c));
    expect(read.map((cols) => String(column(cols, 'event')))).toEqual(['{"n":1}', '{"n":3}']);
    expect(read.map((cols) => int64(column(cols, 'seq')))).toEqual([9n, 9n]);
    expect(read.map((cols) => column(cols, 'hash')!.toString('hex'))).toEqual(['bb'.repeat(32), 'dd'.repeat(32)]);
  });

  it('refuses an event whose time or ids PostgreSQL would refuse, with its SQLSTATE, and keeps nothing of it', () => {
    const refused = [
      [{ ...base, time: '0000-01-01T00:00:00Z' }, '22008'],
      [{ ...base, time: '2026-01-01T00:00:00+16:00' }, '22009'],
      [{ ...base, sessionId: 'not-a-uuid' }, '22P02'],
      [{ ...base, requestId: '0190f0a0-0000-7000-8000-00000000000g' }, '22P02'],
    ] as const;
    const writer = new EventWriter(4096);
    writer.write(base, Buffer.from('{}'), 'first');
    const after = writer.lastRowEnd;
    for (const [event, code] of refused) {
      expect(() => writer.write(event, Buffer.from('{}'), 'refused')).toThrow(expect.objectContaining({ code }));
    }
    writer.write(base, Buffer.from('{}'), 'next');
    // The next event starts where the refused ones would have.
    expect(writer.lastRowAt).toBe(after);
  });

  it('refuses a NUL in any text column first, as the text form does, whatever else it would refuse', () => {
    // PostgreSQL's text COPY checks a row's encoding before reading any value, so a NUL anywhere
    // in the row is its refusal (22021) even when a column before it holds a bad time or id.
    const bad = [{ time: '2026-01-01T00:00:00+16:00' }, { time: '0000-01-01T00:00Z' }, { id: 'x' }, { sessionId: 'y' }];
    const actor = { issuer: 'i', subject: 's', groups: ['g'] };
    const nul = [
      { type: 'a\0' },
      { actor: { ...actor, issuer: '\0' } },
      { actor: { ...actor, subject: 's\0' } },
      { actor: { ...actor, groups: ['g', '\0g'] } },
      { connection: '\0' },
      { protocol: 'p\0' },
      { source: '\0' },
    ];
    const writer = new EventWriter(4096);
    for (const b of bad) {
      for (const n of nul) {
        const event = { ...base, ...b, ...n } as AuditEvent;
        expect(() => writer.write(event, Buffer.from('{}'), 'refused')).toThrow(
          expect.objectContaining({ code: '22021' }),
        );
      }
      // Without a NUL, the value's own refusal.
      expect(() => writer.write({ ...base, ...b } as AuditEvent, Buffer.from('{}'), 'refused')).toThrow(
        expect.not.objectContaining({ code: '22021' }),
      );
    }
  });

  it('frames the rows of a COPY with the signature and the trailer, and nothing when there are none', () => {
    expect(COPY_HEADER.toString('latin1', 0, 11)).toBe('PGCOPY\n\xff\r\n\0');
    expect(COPY_HEADER).toHaveLength(19);
    const rows = written([row()]);
    expect(copyData([rows])).toEqual([COPY_HEADER, rows, COPY_TRAILER]);
    expect(copyData([])).toEqual([]);
  });
});
