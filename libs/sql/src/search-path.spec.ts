import { parseSearchPath, qualifyTables, tableCandidates } from './search-path';

describe('tableCandidates', () => {
  it('qualifies an unqualified name with every schema of the path, in order', () => {
    expect(tableCandidates('salaries', ['hr', 'public'])).toEqual(['hr.salaries', 'public.salaries']);
  });

  it('keeps a qualified name and drops a catalog part', () => {
    expect(tableCandidates('hr.salaries', ['public'])).toEqual(['hr.salaries']);
    expect(tableCandidates('db.hr.salaries', ['public'])).toEqual(['hr.salaries']);
  });

  it('searches the system catalog first for pg_ names unless the path places it', () => {
    expect(tableCandidates('pg_authid', ['public'])).toEqual(['pg_catalog.pg_authid', 'public.pg_authid']);
    expect(tableCandidates('pg_authid', ['public', 'pg_catalog'])).toEqual([
      'public.pg_authid',
      'pg_catalog.pg_authid',
    ]);
    expect(tableCandidates('customers', ['pg_catalog', 'public'])).toEqual(['public.customers']);
  });

  it('leaves the temporary schema out and resolves nothing on an empty path', () => {
    expect(tableCandidates('t', ['pg_temp', 'public'])).toEqual(['public.t']);
    expect(tableCandidates('t', [])).toEqual([]);
  });

  it('qualifies a list once per candidate', () => {
    expect(qualifyTables(['a', 'public.a', 'b'], ['public'])).toEqual(['public.a', 'public.b']);
  });
});

describe('parseSearchPath', () => {
  it('reads the forms the server prints and clients write', () => {
    expect(parseSearchPath('"$user", public', 'agent')).toEqual(['agent', 'public']);
    expect(parseSearchPath('HR,Public', 'x')).toEqual(['hr', 'public']);
    expect(parseSearchPath('"My Schema", "a""b"', 'x')).toEqual(['My Schema', 'a"b']);
    expect(parseSearchPath('', 'x')).toEqual([]);
  });

  it('refuses text that is not a list of identifiers', () => {
    expect(parseSearchPath('"open', 'x')).toBeNull();
    expect(parseSearchPath('a b', 'x')).toBeNull();
    expect(parseSearchPath('a,,b', 'x')).toBeNull();
  });
});
