import { loadSqlParser } from '@airlock/sql';
import type { ActiveLease } from '../credentials/lease.client';
import { RelationCatalog } from './relation-catalog';

interface Row {
  nspname: string;
  relname: string;
  relkind: string;
  def: string | null;
  cols: string[];
}

/** A catalog of a few relations, answering the relation query by the names it is given. */
function fakeSide(rows: Row[]) {
  const asked: string[][] = [];
  return {
    asked,
    sideQuery: <T>(_lease: ActiveLease, _text: string, values: unknown[]): Promise<T[]> => {
      const [schemas, names] = values as [string[], string[]];
      const wanted = schemas.map((s, i) => `${s}.${names[i]}`);
      asked.push(wanted);
      return Promise.resolve(rows.filter((r) => wanted.includes(`${r.nspname}.${r.relname}`)) as T[]);
    },
  };
}

const lease = { connection: 'db', leaseId: 'l1' } as ActiveLease;

beforeAll(async () => {
  await loadSqlParser();
});

describe('RelationCatalog', () => {
  const rows: Row[] = [
    { nspname: 'public', relname: 'customers', relkind: 'r', def: null, cols: ['id', 'ssn'] },
    { nspname: 'public', relname: 'v', relkind: 'v', def: ' SELECT w.id FROM public.w;', cols: ['id'] },
    {
      nspname: 'public',
      relname: 'w',
      relkind: 'v',
      def: ' SELECT customers.ssn AS id FROM public.customers;',
      cols: ['id'],
    },
  ];

  it('loads relations and the relations their views use, then answers from the cache', async () => {
    let now = 1000;
    const side = fakeSide(rows);
    const catalog = new RelationCatalog(side, () => now);
    expect(catalog.cached(lease, ['public.v'])).toBeNull();
    const source = await catalog.load(lease, ['public.v', 'public.nothing']);
    expect(side.asked).toEqual([['public.v', 'public.nothing'], ['public.w'], ['public.customers']]);
    expect(source.relation('public.customers')).toEqual({ kind: 'table', columns: ['id', 'ssn'] });
    expect(source.relation('public.v')).toMatchObject({ kind: 'view', columns: ['id'] });
    expect(source.relation('public.nothing')).toBeNull();
    expect(catalog.cached(lease, ['public.v', 'public.nothing'])).not.toBeNull();
    // Another connection's relations are its own.
    expect(catalog.cached({ ...lease, connection: 'other' } as ActiveLease, ['public.v'])).toBeNull();
    // A missing name is asked again soon; found ones are kept for minutes.
    now += 10_000;
    expect(catalog.cached(lease, ['public.nothing'])).toBeNull();
    expect(catalog.cached(lease, ['public.v'])).not.toBeNull();
    now += 10 * 60_000;
    expect(catalog.cached(lease, ['public.v'])).toBeNull();
  });

  it('forgets the relations of one connection after DDL, and says it learnt something', async () => {
    const catalog = new RelationCatalog(fakeSide(rows));
    await catalog.load(lease, ['public.customers']);
    const other = { ...lease, connection: 'other' } as ActiveLease;
    await catalog.load(other, ['public.customers']);
    const before = catalog.generation;
    catalog.forget(lease);
    expect(catalog.generation).not.toBe(before);
    expect(catalog.cached(lease, ['public.customers'])).toBeNull();
    expect(catalog.cached(other, ['public.customers'])).not.toBeNull();
  });

  it('keeps a view whose definition does not parse, without a definition', async () => {
    const side = fakeSide([{ nspname: 'public', relname: 'odd', relkind: 'v', def: 'not sql', cols: ['a'] }]);
    const source = await new RelationCatalog(side).load(lease, ['public.odd']);
    expect(source.relation('public.odd')).toEqual({ kind: 'view', columns: ['a'], definition: undefined });
  });
});
