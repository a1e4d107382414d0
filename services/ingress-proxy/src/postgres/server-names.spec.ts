import fc from 'fast-check';
import { ServerNames } from './server-names';

describe('ServerNames', () => {
  it('changes the confirmed view only when the server confirms', () => {
    const n = new ServerNames<string, string>();
    const parse = n.parse('s1', 'CREATE TABLE t ()');
    expect(n.statement('s1')).toEqual({ known: true, value: 'CREATE TABLE t ()' });
    n.sync();
    expect('wait' in n.statement('s1')).toBe(true);
    n.confirm(parse);
    expect(n.statement('s1')).toEqual({ known: true, value: 'CREATE TABLE t ()' });
  });

  it('keeps a statement whose Close was skipped, and a named one whose redefinition failed', () => {
    const n = new ServerNames<string, string>();
    n.confirm(n.parse('s1', 'A'));
    n.sync();
    const failed = n.parse('', 'not sql');
    const close = n.close('S', 's1');
    expect(n.statement('s1')).toEqual({ known: false });
    n.fail(failed);
    n.skip(close);
    n.sync();
    expect(n.statement('s1')).toEqual({ known: true, value: 'A' });
    const redefine = n.parse('s1', 'B');
    n.sync();
    n.fail(redefine);
    expect(n.statement('s1')).toEqual({ known: true, value: 'A' });
  });

  it('drops the unnamed statement when a Parse of it fails', () => {
    const n = new ServerNames<string, string>();
    n.confirm(n.parse('', 'A'));
    n.sync();
    n.fail(n.parse('', 'not sql'));
    expect(n.statement('')).toEqual({ known: false });
  });

  it('waits for an earlier segment and settles the wait with the answer', async () => {
    const n = new ServerNames<string, string>();
    const p = n.parse('s', 'A');
    n.sync();
    const found = n.statement('s');
    if (!('wait' in found)) throw new Error('expected a wait');
    n.skip(p);
    await found.wait;
    expect(n.statement('s')).toEqual({ known: false });
  });

  it('forgets names SQL drops, all of them for ALL, and every portal when a transaction ends', () => {
    const n = new ServerNames<string, string>();
    n.confirm(n.parse('a', 'A'));
    n.confirm(n.parse('b', 'B'));
    n.confirm(n.bind('p', 'P'));
    for (const c of n.dropBySql('S', ['a'])) n.confirm(c);
    expect(n.statement('a')).toEqual({ known: false });
    expect(n.statement('b')).toEqual({ known: true, value: 'B' });
    for (const c of n.dropBySql('S', 'all')) n.confirm(c);
    expect(n.statement('b')).toEqual({ known: false });
    n.transactionEnded();
    expect(n.portal('p')).toEqual({ known: false });
  });

  it('never reports a value the server does not hold, over generated answers (model)', () => {
    type Op = { kind: 'parse' | 'close'; name: string; value: string } | { kind: 'sync' };
    const op = fc.oneof(
      fc.record({
        kind: fc.constantFrom<'parse' | 'close'>('parse', 'close'),
        name: fc.constantFrom('', 'a'),
        value: fc.constantFrom('X', 'Y'),
      }),
      fc.constant<Op>({ kind: 'sync' }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.array(fc.boolean(), { maxLength: 20 }), (ops, answers) => {
        const n = new ServerNames<string, string>();
        const server = new Map<string, string>();
        const sent: Array<{ op: Op; change?: ReturnType<ServerNames<string, string>['parse']> }> = [];
        for (const o of ops) {
          if (o.kind === 'sync') {
            n.sync();
            sent.push({ op: o });
          } else if (o.kind === 'parse') sent.push({ op: o, change: n.parse(o.name, o.value) });
          else sent.push({ op: o, change: n.close('S', o.name) });
        }
        // The server answers in order; an error skips the rest of its segment.
        let skipping = false;
        let i = 0;
        for (const s of sent) {
          if (s.op.kind === 'sync') {
            skipping = false;
            continue;
          }
          if (skipping) {
            n.skip(s.change!);
            continue;
          }
          const ok = answers[i++] ?? true;
          const o = s.op;
          if (o.kind === 'parse' && o.name !== '' && server.has(o.name)) {
            n.fail(s.change!);
            skipping = true;
          } else if (o.kind === 'parse' && !ok) {
            if (o.name === '') server.delete('');
            n.fail(s.change!);
            skipping = true;
          } else {
            if (o.kind === 'parse') server.set(o.name, o.value);
            else server.delete(o.name);
            n.confirm(s.change!);
          }
        }
        for (const name of ['', 'a']) {
          const found = n.statement(name);
          expect('wait' in found).toBe(false);
          expect(found).toEqual(server.has(name) ? { known: true, value: server.get(name) } : { known: false });
        }
      }),
      { numRuns: 500 },
    );
  });
});
