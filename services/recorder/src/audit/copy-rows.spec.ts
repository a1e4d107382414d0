import { syntheticAuditEvent } from '@airlock/testing';
import { COPY_COLUMNS, copyRow, copyValue, textArrayLiteral } from './copy-rows';

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
    const prevHash = Buffer.alloc(32, 1);
    const hash = Buffer.alloc(32, 2);
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
      prevHash: Buffer.alloc(32),
      hash: Buffer.alloc(32),
      offset: '0',
    })
      .slice(0, -1)
      .split('\t');
    for (const name of ['actor_issuer', 'actor_subject', 'actor_groups', 'connection'] as const) {
      expect({ name, value: cols[COPY_COLUMNS.indexOf(name)] }).toEqual({ name, value: '\\N' });
    }
  });
});
