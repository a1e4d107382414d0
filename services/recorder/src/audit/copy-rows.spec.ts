import fc from 'fast-check';
import { syntheticAuditEvent } from '@airlock/testing';
import { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, CopyRows, copyData, type ChainedRow } from './copy-rows';

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
const at = (row: (Buffer | null)[], name: (typeof COPY_COLUMNS)[number]): Buffer | null =>
  row[COPY_COLUMNS.indexOf(name)];

describe('binary COPY rows', () => {
  const base = {
    ...syntheticAuditEvent('0190f0a0-0000-7000-8000-000000000001'),
    time: '2026-01-01T00:00:00.250Z',
  };
  const row = (over: Partial<ChainedRow> = {}): ChainedRow => ({
    event: base,
    raw: JSON.stringify(base),
    chain: 5,
    seq: '12345678901',
    prevHash: Buffer.from(Array.from({ length: 32 }, (_, i) => i * 8)),
    hash: Buffer.from(Array.from({ length: 32 }, (_, i) => 255 - i)),
    offset: '98765',
    ...over,
  });
  const written = (rows: { r: ChainedRow; bytes?: Buffer | null }[], chunkSize?: number): Buffer => {
    const out = new CopyRows(chunkSize);
    for (const { r, bytes } of rows) out.row(r, bytes);
    return Buffer.concat(out.chunks());
  };

  it('writes every column in its binary form', () => {
    const r = row();
    const [cols] = readRows(written([{ r, bytes: Buffer.from(r.raw) }]));
    expect(cols).toHaveLength(COPY_COLUMNS.length);
    expect(at(cols, 'id')).toEqual(uuidBytes(base.id));
    expect(at(cols, 'type')!.toString()).toBe(base.type);
    expect(at(cols, 'schema_version')!.readInt32BE(0)).toBe(base.schemaVersion);
    // Microseconds since 2000-01-01 UTC.
    expect(int64(at(cols, 'time'))).toBe(BigInt(Date.parse(base.time) - Date.parse('2000-01-01T00:00:00Z')) * 1000n);
    expect(at(cols, 'session_id')).toEqual(uuidBytes(base.sessionId));
    expect(at(cols, 'request_id')).toEqual(uuidBytes(base.requestId));
    expect(at(cols, 'actor_issuer')!.toString()).toBe(base.actor!.issuer);
    expect(at(cols, 'actor_subject')!.toString()).toBe(base.actor!.subject);
    expect(readTextArray(at(cols, 'actor_groups')!)).toEqual(base.actor!.groups);
    expect(at(cols, 'connection')!.toString()).toBe(base.connection);
    expect(at(cols, 'protocol')!.toString()).toBe(base.protocol);
    expect(at(cols, 'source')!.toString()).toBe(base.source);
    expect(at(cols, 'event')!.toString()).toBe(r.raw);
    expect(at(cols, 'chain')!.readInt32BE(0)).toBe(5);
    expect(int64(at(cols, 'seq'))).toBe(12345678901n);
    expect(at(cols, 'prev_hash')).toEqual(r.prevHash);
    expect(at(cols, 'hash')).toEqual(r.hash);
    expect(int64(at(cols, 'kafka_offset'))).toBe(98765n);
  });

  it('writes NULL for the actor and its groups of an unauthenticated caller, and for no connection', () => {
    const [cols] = readRows(written([{ r: row({ event: { ...base, actor: null, connection: null } }) }]));
    for (const name of ['actor_issuer', 'actor_subject', 'actor_groups', 'connection'] as const) {
      expect({ name, value: at(cols, name) }).toEqual({ name, value: null });
    }
  });

  it('writes sequence numbers and offsets past 15 digits exactly', () => {
    const [cols] = readRows(written([{ r: row({ seq: '9007199254740993', offset: '9223372036854775807' }) }]));
    expect(int64(at(cols, 'seq'))).toBe(9007199254740993n);
    expect(int64(at(cols, 'kafka_offset'))).toBe(9223372036854775807n);
  });

  it('writes the same bytes whether the event is copied from its bytes or written from its text', () => {
    const unicode = row({
      event: {
        ...base,
        actor: { issuer: 'https://idp.tést', subject: 'agent "ø"\tx', groups: ['a"b', 'c\\d', '日本', ''] },
      },
      raw: '{"path":"/ümlaut/😀","q":"a\\\\b\\n"}',
    });
    for (const r of [row(), unicode]) {
      expect(written([{ r, bytes: Buffer.from(r.raw) }])).toEqual(written([{ r }]));
    }
    const [cols] = readRows(written([{ r: unicode }]));
    expect(at(cols, 'event')!.toString()).toBe(unicode.raw);
    expect(at(cols, 'actor_issuer')!.toString()).toBe('https://idp.tést');
    expect(readTextArray(at(cols, 'actor_groups')!)).toEqual(['a"b', 'c\\d', '日本', '']);
  });

  it('writes the text as decoded, not the bytes, when the bytes are not valid UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const r = row({ raw: bytes.toString('utf8') });
    expect(r.raw).toContain('\ufffd');
    const [cols] = readRows(written([{ r, bytes }]));
    expect(at(cols, 'event')!.toString()).toBe(r.raw);
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
        const rows = readRows(written(actors.map((a) => ({ r: row({ event: { ...base, actor: a } }) }))));
        expect(rows.map((cols) => at(cols, 'actor_groups') && readTextArray(at(cols, 'actor_groups')!))).toEqual(
          actors.map((a) => a?.groups ?? null),
        );
      }),
    );
  });

  it('keeps rows whole across pieces, whatever the piece size', () => {
    const rows = Array.from({ length: 50 }, (_, i) => {
      const r = row({ seq: String(i + 1), raw: JSON.stringify({ ...base, n: 'x'.repeat(i * 37) }) });
      return { r, bytes: Buffer.from(r.raw) };
    });
    const out = new CopyRows(1024);
    for (const { r, bytes } of rows) out.row(r, bytes);
    const chunks = out.chunks();
    expect(chunks.length).toBeGreaterThan(1);
    // Every piece reads as whole rows on its own.
    const pieces = chunks.map((c) => readRows(c));
    expect(pieces.flat().map((cols) => int64(at(cols, 'seq')))).toEqual(rows.map((_, i) => BigInt(i + 1)));
    expect(Buffer.concat(chunks)).toEqual(written(rows));
  });

  it('refuses a row whose time or ids PostgreSQL would refuse, with its SQLSTATE, and keeps nothing of it', () => {
    const out = new CopyRows();
    out.row(row());
    const refused = [
      [row({ event: { ...base, time: '0000-01-01T00:00:00Z' } }), '22008'],
      [row({ event: { ...base, time: '2026-01-01T00:00:00+16:00' } }), '22009'],
      [row({ event: { ...base, sessionId: 'not-a-uuid' } }), '22P02'],
      [row({ event: { ...base, requestId: '0190f0a0-0000-7000-8000-00000000000g' } }), '22P02'],
    ] as const;
    for (const [r, code] of refused) expect(() => out.row(r)).toThrow(expect.objectContaining({ code }));
    out.row(row({ seq: '2' }));
    expect(readRows(Buffer.concat(out.chunks())).map((cols) => int64(at(cols, 'seq')))).toEqual([12345678901n, 2n]);
  });

  it('frames the rows of a COPY with the signature and the trailer, and nothing when there are none', () => {
    expect(COPY_HEADER.toString('latin1', 0, 11)).toBe('PGCOPY\n\xff\r\n\0');
    expect(COPY_HEADER).toHaveLength(19);
    const rows = written([{ r: row() }]);
    expect(copyData([rows])).toEqual([COPY_HEADER, rows, COPY_TRAILER]);
    expect(copyData([])).toEqual([]);
  });
});
