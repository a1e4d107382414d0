import { block, cell, fields, safeText, table } from './render';

describe('tables and text for a terminal', () => {
  it('pads columns to their widest cell, numbers to the right', () => {
    const out = table(
      [
        { name: 'billing-db', n: 3 },
        { name: 'api', n: 12 },
      ],
      [
        { header: 'NAME', value: (r) => r.name },
        { header: 'COUNT', value: (r) => r.n, right: true },
      ],
    );
    expect(out).toBe('NAME        COUNT\nbilling-db      3\napi            12\n');
  });

  it('shows missing values as -, cuts long cells, and keeps every row on one line', () => {
    expect(cell(null)).toBe('-');
    expect(cell(undefined)).toBe('-');
    expect(cell('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(cell('SELECT 1\n\tFROM t')).toBe('SELECT 1 FROM t');
  });

  it('never sends control or bidirectional characters to the terminal as they are', () => {
    expect(safeText('rm\u001b[2J -- \u202etxt.exe\u200b')).toBe('rm\\u001b[2J -- \\u202etxt.exe\\u200b');
    expect(table([{ s: 'a\u0007b' }], [{ header: 'S', value: (r) => r.s }])).toBe('S\na\\u0007b\n');
    expect(block('DELETE\u001b[1m\nFROM t', '  ')).toBe('  DELETE\\u001b[1m\n  FROM t\n');
  });

  it('aligns key: value lines', () => {
    expect(
      fields([
        ['state', 'pending'],
        ['connection', 'demo'],
      ]),
    ).toBe('state:      pending\nconnection: demo\n');
  });
});
