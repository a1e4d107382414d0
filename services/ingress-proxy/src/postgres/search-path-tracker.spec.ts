import type { Classification } from '@airlock/sql';
import { SearchPathTracker, UntrackedSearchPathError, qualifiedStatements } from './search-path-tracker';

describe('SearchPathTracker', () => {
  it('keeps every value a statement in flight may set, and narrows to the server answer', () => {
    const t = new SearchPathTracker(['public'], 'owner');
    expect(t.pathsFor([{ kind: 'set', schemas: ['hr'] }])).toEqual([['public'], ['hr']]);
    t.sent([{ kind: 'set', schemas: ['hr', '$user'] }]);
    expect(t.values).toEqual([['public'], ['hr', 'owner']]);
    expect(t.wantsProbe).toBe(true);
    t.probeSent();
    t.sent([{ kind: 'reset' }, { kind: 'text', text: 'Sales, "X"' }]);
    t.probeAnswered({ setting: 'hr, "$user"', user: 'owner' });
    expect(t.values).toEqual([['hr', 'owner'], ['public'], ['sales', 'X']]);
    expect(t.wantsProbe).toBe(true);
  });

  it('stays wide when the server cannot say', () => {
    const t = new SearchPathTracker(['public'], 'owner');
    t.sent([{ kind: 'set', schemas: ['hr'] }]);
    t.probeSent();
    t.probeAnswered(null);
    expect(t.values).toEqual([['public'], ['hr']]);
    expect(t.wantsProbe).toBe(false);
  });

  it('refuses what it cannot follow', () => {
    const t = new SearchPathTracker(['public'], 'owner');
    expect(() => t.pathsFor([{ kind: 'untracked' }])).toThrow(UntrackedSearchPathError);
    expect(() => t.pathsFor([{ kind: 'text', text: '"open' }])).toThrow(UntrackedSearchPathError);
  });
});

describe('qualifiedStatements', () => {
  const c: Classification = {
    parsed: true,
    fingerprint: 'f',
    normalized: 'SELECT',
    statements: [{ command: 'SELECT', class: 'read', tables: ['salaries', 'public.t'], functions: [], risks: [] }],
  };

  it('qualifies under every path, and gives the same object for the same paths', () => {
    const a = qualifiedStatements(c, [['hr'], ['public']]);
    expect(a[0].tables).toEqual(['hr.salaries', 'public.t', 'public.salaries']);
    expect(qualifiedStatements(c, [['hr'], ['public']])).toBe(a);
    expect(qualifiedStatements(c, [['public']])[0].tables).toEqual(['public.salaries', 'public.t']);
  });
});
