import { SqlClassifier, classifySql, loadSqlParser } from './index';

beforeAll(async () => {
  await loadSqlParser();
});

describe('SqlClassifier', () => {
  it('answers a repeated text from its cache with the same frozen result', () => {
    const c = new SqlClassifier(10);
    const a = c.classify('SELECT * FROM orders WHERE id = $1');
    const b = c.classify('SELECT * FROM orders WHERE id = $1');
    expect(b).toBe(a);
    expect(a).toEqual(classifySql('SELECT * FROM orders WHERE id = $1'));
    expect(Object.isFrozen(a)).toBe(true);
    if (!a.parsed) throw new Error('expected a parsed text');
    expect(Object.isFrozen(a.statements[0].tables)).toBe(true);
    expect(() => (a.statements[0].tables as string[]).push('x')).toThrow(TypeError);
  });

  it('keys on the exact text', () => {
    const c = new SqlClassifier(10);
    expect(c.classify('SELECT 1')).not.toBe(c.classify('select 1'));
    expect(c.size).toBe(2);
  });

  it('drops the least recently used entry when full', () => {
    const c = new SqlClassifier(2);
    const one = c.classify('SELECT a FROM t');
    const two = c.classify('SELECT b FROM t');
    expect(c.classify('SELECT a FROM t')).toBe(one);
    c.classify('SELECT c FROM t');
    expect(c.size).toBe(2);
    expect(c.classify('SELECT a FROM t')).toBe(one);
    expect(c.classify('SELECT b FROM t')).not.toBe(two);
  });

  it('shares one entry among texts that differ only in numeric constants', () => {
    const c = new SqlClassifier(10);
    const a = c.classify('SELECT abalance FROM pgbench_accounts WHERE aid = 17');
    expect(c.classify('SELECT abalance FROM pgbench_accounts WHERE aid = 912')).toBe(a);
    expect(c.size).toBe(1);
    expect(a).toEqual(classifySql('SELECT abalance FROM pgbench_accounts WHERE aid = 912'));
  });

  it('does not share an entry where a number is syntax, not a constant', () => {
    const c = new SqlClassifier(10);
    const five = c.classify('FETCH 5 FROM cur');
    const six = c.classify('FETCH 6 FROM cur');
    expect(six).not.toBe(five);
    expect(six).toEqual(classifySql('FETCH 6 FROM cur'));
    expect(c.size).toBe(2);
  });

  it('does not keep texts over 64 KiB, nor anything with a size of 0', () => {
    const big = `SELECT 1 /* ${'é'.repeat(33 * 1024)} */`;
    const c = new SqlClassifier(10);
    expect(c.classify(big)).not.toBe(c.classify(big));
    expect(c.size).toBe(0);
    const none = new SqlClassifier(0);
    expect(none.classify('SELECT 1')).not.toBe(none.classify('SELECT 1'));
    expect(() => new SqlClassifier(-1)).toThrow(RangeError);
  });

  it('caches texts the parser refuses too', () => {
    const c = new SqlClassifier();
    const bad = c.classify('SELEC 1');
    expect(bad.parsed).toBe(false);
    expect(c.classify('SELEC 1')).toBe(bad);
  });
});
