import fc from 'fast-check';
import { syntheticAuditEvent } from '@airlock/testing';
import {
  COPY_COLUMNS,
  CopyText,
  EventWriter,
  copyRow,
  copyValue,
  storedForm,
  textArrayLiteral,
  type ChainedRow,
} from './copy-rows';

describe('COPY text rows', () => {
  it('escapes backslash, tab, newline and carriage return, and writes NULL as \\N', () => {
    expect(copyValue('plain')).toBe('plain');
    expect(copyValue('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyValue(null)).toBe('\\N');
    expect(copyValue('\\N')).toBe('\\\\N');
  });

  it('quotes every array element, escaping quotes and backslashes', () => {
    expect(textArrayLiteral([])).toBe('{}');
    expect(textArrayLiteral(['agents', 'a "b"', 'c\\d', 'NULL', 'x,y'])).toBe(
      '{"agents","a \\"b\\"","c\\\\d","NULL","x,y"}',
    );
  });

  it('writes one line with a column for each name, the event text as it arrived, and hex hashes', () => {
    const event = syntheticAuditEvent('0192e1a2-0000-7000-8000-000000000000');
    const raw = `{"pretty":\n\t"json \\" \\\\ text"}`;
    const prevHash = '01'.repeat(32);
    const hash = '02'.repeat(32);
    const line = copyRow({ event, raw, chain: 3, seq: '42', prevHash, hash, offset: '1007' });
    expect(line.endsWith('\n')).toBe(true);
    const cols = line.slice(0, -1).split('\t');
    expect(cols).toHaveLength(COPY_COLUMNS.length);
    const at = (name: (typeof COPY_COLUMNS)[number]) => cols[COPY_COLUMNS.indexOf(name)];
    expect(at('id')).toBe(event.id);
    expect(at('actor_groups')).toBe('{"agents"}');
    // Tab and newline inside the event become escapes, so the line stays one row of 18 columns.
    expect(at('event')).toBe('{"pretty":\\n\\t"json \\\\" \\\\\\\\ text"}');
    expect(at('prev_hash')).toBe(`\\\\x${'01'.repeat(32)}`);
    expect(at('hash')).toBe(`\\\\x${'02'.repeat(32)}`);
    expect([at('chain'), at('seq'), at('kafka_offset')]).toEqual(['3', '42', '1007']);
  });

  it('writes NULL for the actor and its groups of an unauthenticated caller', () => {
    const event = { ...syntheticAuditEvent('0192e1a2-0000-7000-8000-000000000000'), actor: null, connection: null };
    const cols = copyRow({
      event,
      raw: '{}',
      chain: 0,
      seq: '1',
      prevHash: '00'.repeat(32),
      hash: '00'.repeat(32),
      offset: '0',
    })
      .slice(0, -1)
      .split('\t');
    for (const name of ['actor_issuer', 'actor_subject', 'actor_groups', 'connection'] as const) {
      expect({ name, value: cols[COPY_COLUMNS.indexOf(name)] }).toEqual({ name, value: '\\N' });
    }
  });

  describe('EventWriter and CopyText', () => {
    const base = syntheticAuditEvent('0192e1a2-0000-7000-8000-000000000000');
    const row = (over: Partial<ChainedRow> = {}): ChainedRow => ({
      event: base,
      raw: JSON.stringify(base),
      chain: 5,
      seq: '12345678901',
      prevHash: Buffer.from(Array.from({ length: 32 }, (_, i) => i * 8)).toString('hex'),
      hash: Buffer.from(Array.from({ length: 32 }, (_, i) => 255 - i)).toString('hex'),
      offset: '98765',
      ...over,
    });
    /** Each row's head written as its event is received (in buffers of `receivedSize`), then the rows. */
    const writtenIn = (rows: ChainedRow[], receivedSize?: number, chunkSize?: number): Buffer[] => {
      const writer = new EventWriter(receivedSize);
      const heads = rows.map((r) => {
        writer.write(r.event, r.raw, JSON.stringify(r.event));
        const { lastBytes: bytes, lastAt: at, lastCanonicalEnd: canonicalEnd, lastHeadEnd: headEnd } = writer;
        return { bytes, at, canonicalEnd, headEnd, offset: r.offset };
      });
      const text = new CopyText(chunkSize);
      rows.forEach((r, i) => text.row(heads[i], r.chain, r.seq, r.prevHash, r.hash));
      return text.chunks();
    };
    const written = (rows: ChainedRow[]): string => Buffer.concat(writtenIn(rows)).toString('utf8');
    /** The row with its message kept as decode keeps it, from the bytes of its text. */
    const asReceived = (r: ChainedRow): ChainedRow => ({ ...r, raw: storedForm(Buffer.from(r.raw), String(r.raw)) });

    it('writes the bytes copyRow gives, whether the event is copied from its bytes or written from its text', () => {
      const plain = row();
      const escaped = row({ raw: '{"a":\n\t"q\\" \\\\ x\r"}' });
      const unicode = row({
        event: {
          ...base,
          actor: { issuer: 'https://idp.tést', subject: 'agent "ø"\tx', groups: ['a"b', 'c\\d', '日本'] },
        },
        raw: '{"path":"/ümlaut/😀"}',
      });
      const anonymous = row({ event: { ...base, actor: null, connection: null } });
      const cases = [asReceived(plain), plain, asReceived(escaped), asReceived(unicode), asReceived(anonymous)];
      // Kept as bytes, but for the text COPY must escape.
      expect(cases.map((r) => typeof r.raw)).toEqual(['object', 'string', 'string', 'object', 'object']);
      expect(written(cases)).toBe(cases.map((r) => copyRow(r)).join(''));
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
          const rows = actors.map((a) => row({ event: { ...base, actor: a } }));
          expect(written(rows)).toBe(rows.map((r) => copyRow(r)).join(''));
        }),
      );
    });

    it('writes the text as decoded, not the bytes, when the bytes are not valid UTF-8', () => {
      const bytes = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
      const r = row({ raw: storedForm(bytes, bytes.toString('utf8')) });
      expect(r.raw).toContain('\ufffd');
      expect(written([r])).toBe(copyRow(r));
    });

    it('keeps rows whole across pieces, whatever the piece size', () => {
      const rows = Array.from({ length: 50 }, (_, i) => {
        return asReceived(row({ seq: String(i + 1), raw: JSON.stringify({ ...base, n: 'x'.repeat(i * 37) }) }));
      });
      const chunks = writtenIn(rows, 1024, 1024);
      expect(chunks.length).toBeGreaterThan(1);
      for (const c of chunks) expect(c[c.length - 1]).toBe(0x0a);
      expect(Buffer.concat(chunks).toString('utf8')).toBe(rows.map((r) => copyRow(r)).join(''));
    });
  });
});
