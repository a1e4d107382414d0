import { uuidv7, type PolicyEvaluateRequest, type SqlStatement } from '@airlock/contracts';
import { PolicyEvaluator } from './evaluator';
import { compileNamePattern, compilePathPattern } from './glob';
import { PolicyDocumentError, parsePolicyDocument } from './policy-document';

const POLICY = `
id: test
version: v7
rules:
  - id: read
    description: agents read
    effect: allow
    connections: [demo]
    principals: [{ groups: [agents] }]
    http: { methods: [GET], paths: ["/items/**"] }
    masking: [default]
  - id: review-writes
    effect: review
    connections: [demo]
    principals: [{ groups: [agents] }]
    http: { methods: [POST, PUT], paths: ["/items/*"] }
  - id: alice-any
    effect: allow
    connections: ["*"]
    principals: [{ issuer: https://idp.one, subjects: [alice] }]
  - id: never-admin
    effect: deny
    connections: ["*"]
    http: { paths: ["/admin/**"] }
`;

function req(
  method: string,
  path: string,
  principal: Partial<PolicyEvaluateRequest['principal']> = {},
  connection = 'demo',
): PolicyEvaluateRequest {
  return {
    requestId: uuidv7(),
    sessionId: uuidv7(),
    principal: { issuer: 'https://idp.one', subject: 'bot', groups: ['agents'], ...principal },
    connection,
    protocol: 'http',
    operation: { kind: 'http', method, path },
  };
}

describe('policy evaluation', () => {
  const policy = new PolicyEvaluator(parsePolicyDocument(POLICY));

  it('allows what a rule allows, with its masking rules and the policy version', () => {
    const r = req('GET', '/items/1/details');
    expect(policy.evaluate(r)).toEqual({
      requestId: r.requestId,
      decision: 'allow',
      reason: 'read: agents read',
      ruleId: 'read',
      policyVersion: 'v7',
      masking: ['default'],
    });
  });

  it('denies by default, naming what was asked', () => {
    const d = policy.evaluate(req('DELETE', '/items/1'));
    expect(d.decision).toBe('deny');
    expect(d.ruleId).toBeUndefined();
    expect(d.reason).toBe('no rule allows DELETE /items/1 on connection demo');
  });

  it('matches principals by group, issuer and subject', () => {
    expect(policy.evaluate(req('GET', '/items/1', { groups: ['humans'] })).decision).toBe('deny');
    expect(policy.evaluate(req('DELETE', '/x', { subject: 'alice', groups: [] }, 'other')).ruleId).toBe('alice-any');
    expect(
      policy.evaluate(req('DELETE', '/x', { issuer: 'https://idp.two', subject: 'alice', groups: [] })).decision,
    ).toBe('deny');
  });

  it('lets the strictest matching rule win: deny over review over allow', () => {
    expect(policy.evaluate(req('POST', '/items/1')).decision).toBe('review');
    const alicePost = policy.evaluate(req('POST', '/items/1', { subject: 'alice' }));
    expect(alicePost).toMatchObject({ decision: 'review', ruleId: 'review-writes' });
    const aliceAdmin = policy.evaluate(req('GET', '/admin/users', { subject: 'alice' }));
    expect(aliceAdmin).toMatchObject({ decision: 'deny', ruleId: 'never-admin', masking: [] });
  });

  it('ignores the query string when matching paths', () => {
    expect(policy.evaluate(req('GET', '/admin?x=/items/1')).decision).toBe('deny');
    expect(policy.evaluate(req('GET', '/items/2?debug=1')).decision).toBe('allow');
  });

  it('derives a content version when none is given, and refuses invalid documents', () => {
    const a = parsePolicyDocument('rules: []');
    const b = parsePolicyDocument('rules: []\n# changed');
    expect(a.version).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(a.version).not.toBe(b.version);
    expect(() => parsePolicyDocument('rules: [ { id: x, effect: maybe, connections: [a] } ]')).toThrow(
      PolicyDocumentError,
    );
    expect(() => parsePolicyDocument('rules: [ { id: x, effect: allow, connections: [a], extra: 1 } ]')).toThrow(
      /extra/,
    );
    expect(() =>
      parsePolicyDocument(
        'rules: [ {id: x, effect: allow, connections: [a]}, {id: x, effect: deny, connections: [a]} ]',
      ),
    ).toThrow(/duplicate/);
    expect(() => parsePolicyDocument(': : :')).toThrow(/YAML/);
    expect(() =>
      parsePolicyDocument('rules: [ { id: x, effect: allow, connections: [a], masking: [secretz] } ]'),
    ).toThrow(/secretz/);
    expect(
      parsePolicyDocument(
        'rules: [ { id: x, effect: allow, connections: [a], masking: [secrets, pii, block-binary] } ]',
      ).rules,
    ).toHaveLength(1);
  });
});

describe('path patterns', () => {
  it.each([
    ['/items/*', '/items/1', true],
    ['/items/*', '/items/1/2', false],
    ['/items/*', '/items', false],
    ['/items/**', '/items', true],
    ['/items/**', '/items/a/b/c', true],
    ['/items/**', '/itemsX', false],
    ['/**', '/', true],
    ['/a.b', '/aXb', false],
    ['/v1/*/users', '/v1/x/users', true],
    ['/files/*.json', '/files/a.json', true],
    ['/files/*.json', '/files/a/b.json', false],
  ])('%s against %s → %s', (pattern, path, expected) => {
    expect(compilePathPattern(pattern).test(path)).toBe(expected);
  });
});

describe('policy evaluation of PostgreSQL operations', () => {
  type Stmt = SqlStatement;
  const stmt = (command: string, cls: Stmt['class'], more: Partial<Stmt> = {}): Stmt => ({
    command,
    class: cls,
    tables: [],
    functions: [],
    risks: [],
    ...more,
  });

  function pg(
    statements: Stmt[],
    opts: { groups?: string[]; parsed?: boolean; params?: (string | null)[]; paramCount?: number } = {},
  ): PolicyEvaluateRequest {
    return {
      requestId: uuidv7(),
      sessionId: uuidv7(),
      principal: { issuer: 'https://idp.one', subject: 'bot', groups: opts.groups ?? ['agents'] },
      connection: 'db',
      protocol: 'postgres',
      operation: {
        kind: 'postgres',
        via: opts.params ? 'extended' : 'simple',
        sql: 'x',
        fingerprint: 'f',
        parsed: opts.parsed ?? true,
        statements,
        paramCount: opts.paramCount ?? opts.params?.length ?? 0,
        params: opts.params,
      },
    };
  }

  const policy = new PolicyEvaluator(
    parsePolicyDocument(`
version: s1
rules:
  - id: http-only
    effect: allow
    connections: ["*"]
    http: { methods: [GET] }
  - id: reads
    description: agents read
    effect: allow
    connections: [db]
    principals: [{ groups: [agents] }]
    sql: { classes: [read], tables: ['public.*', 'app.*'] }
    masking: [secrets]
    auditLiterals: true
  - id: sessions
    effect: allow
    connections: [db]
    sql: { classes: [session] }
    masking: [pii]
  - id: audit-fn
    effect: allow
    connections: [db]
    sql: { classes: [write], commands: [SELECT], functions: [app.audit_*] }
  - id: no-secrets-table
    effect: deny
    connections: [db]
    sql: { tables: ['*.secrets', secrets] }
  - id: ops-anything
    effect: allow
    connections: [db]
    principals: [{ groups: [ops] }]
`),
  );

  it('applies http rules to HTTP only, sql rules to PostgreSQL only, and rules with neither to both', () => {
    expect(policy.evaluate(pg([stmt('SELECT', 'read', { tables: ['orders'] })]))).toMatchObject({ ruleId: 'reads' });
    expect(policy.evaluate(pg([stmt('DELETE', 'write')])).decision).toBe('deny');
    expect(policy.evaluate(req('POST', '/x', {}, 'db')).decision).toBe('deny');
    expect(policy.evaluate(req('GET', '/x', {}, 'db')).ruleId).toBe('http-only');
    expect(policy.evaluate(pg([stmt('DELETE', 'write')], { groups: ['ops'] })).ruleId).toBe('ops-anything');
    expect(policy.evaluate(req('POST', '/x', { groups: ['ops'] }, 'db')).ruleId).toBe('ops-anything');
  });

  it('requires every table of an allowed statement to match, unqualified names also as public.<name>', () => {
    const read = (tables: string[]) => policy.evaluate(pg([stmt('SELECT', 'read', { tables })])).decision;
    expect(read([])).toBe('allow');
    expect(read(['orders', 'public.users', 'app.items'])).toBe('allow');
    expect(read(['orders', 'billing.invoices'])).toBe('deny');
    // "*" stays within one part of the name.
    expect(read(['public.a.b'])).toBe('deny');
  });

  it('lets one matching table make a deny rule apply', () => {
    const d = policy.evaluate(pg([stmt('SELECT', 'read', { tables: ['orders', 'vault.secrets'] })]));
    expect(d).toMatchObject({ decision: 'deny', ruleId: 'no-secrets-table', masking: [] });
    expect(policy.evaluate(pg([stmt('SELECT', 'read', { tables: ['secrets'] })])).decision).toBe('deny');
  });

  it('allows a write hidden in an unknown function when a rule names the function', () => {
    const call = (functions: string[]) =>
      policy.evaluate(pg([stmt('SELECT', 'write', { functions, risks: ['hidden-write'] })]));
    expect(call(['app.audit_log'])).toMatchObject({ decision: 'allow', ruleId: 'audit-fn' });
    const other = call(['app.audit_log', 'app.purge']);
    expect(other.decision).toBe('deny');
    expect(other.ruleId).toBeUndefined();
  });

  it('decides an operation by its strictest statement, the first of equals, and unites masking', () => {
    const d = policy.evaluate(
      pg([stmt('SELECT', 'read'), stmt('SHOW', 'session'), stmt('CREATE TABLE', 'ddl'), stmt('DROP TABLE', 'ddl')]),
    );
    expect(d).toEqual({
      requestId: expect.any(String),
      policyVersion: 's1',
      decision: 'deny',
      reason: 'no rule allows CREATE TABLE on connection db',
      masking: [],
      dependsOnParams: false,
      auditLiterals: false,
    });
    expect(policy.evaluate(pg([stmt('SELECT', 'read'), stmt('SHOW', 'session'), stmt('SELECT', 'read')]))).toEqual({
      requestId: expect.any(String),
      policyVersion: 's1',
      decision: 'allow',
      reason: 'reads: agents read',
      ruleId: 'reads',
      masking: ['secrets', 'pii'],
      dependsOnParams: false,
      auditLiterals: false,
    });
  });

  it('lets the audit keep literals only when every deciding rule says so', () => {
    expect(policy.evaluate(pg([stmt('SELECT', 'read'), stmt('SELECT', 'read')])).auditLiterals).toBe(true);
    expect(policy.evaluate(pg([stmt('SELECT', 'read'), stmt('SET', 'session')])).auditLiterals).toBe(false);
  });

  it('lets statements search masked columns only when every deciding rule allows it', () => {
    const p = new PolicyEvaluator(
      parsePolicyDocument(`
rules:
  - id: reads
    effect: allow
    connections: [db]
    sql: { classes: [read] }
    masking: [column:public.customers.ssn]
    allowMaskedSearch: true
  - id: sessions
    effect: allow
    connections: [db]
    sql: { classes: [session] }
    masking: [column:public.customers.ssn]
`),
    );
    expect(p.evaluate(pg([stmt('SELECT', 'read')])).allowMaskedSearch).toBe(true);
    expect(p.evaluate(pg([stmt('SELECT', 'read'), stmt('SET', 'session')])).allowMaskedSearch).toBeUndefined();
    expect(p.evaluate(pg([stmt('SET', 'session')])).allowMaskedSearch).toBeUndefined();
    expect(policy.evaluate(pg([stmt('SELECT', 'read')])).allowMaskedSearch).toBeUndefined();
  });

  it('admits an empty query wherever the principal may do anything', () => {
    expect(policy.evaluate(pg([]))).toMatchObject({ decision: 'allow', ruleId: 'reads', masking: [] });
    expect(policy.evaluate({ ...pg([]), connection: 'other' })).toMatchObject({
      decision: 'deny',
      reason: 'no rule allows any statement on connection other',
    });
  });

  it('applies no ordinary rule to text the parser refused', () => {
    expect(policy.evaluate(pg([], { parsed: false, groups: ['ops'] }))).toMatchObject({
      decision: 'deny',
      reason: 'statement could not be parsed; refused',
      masking: [],
    });
  });

  it('marks a decision as depending on parameters once a params criterion was tested', () => {
    const p = new PolicyEvaluator(
      parsePolicyDocument(`
rules:
  - id: all
    effect: allow
    connections: [db]
  - id: no-emails
    effect: review
    connections: [db]
    sql: { classes: [write], params: '@' }
`),
    );
    const write = [stmt('INSERT', 'write')];
    expect(p.evaluate(pg(write, { params: ['a@b.c'] }))).toMatchObject({ decision: 'review', dependsOnParams: true });
    expect(p.evaluate(pg(write, { params: ['abc', null] }))).toMatchObject({
      decision: 'allow',
      dependsOnParams: true,
    });
    // Not yet bound: the values will matter when they are.
    expect(p.evaluate(pg(write, { paramCount: 1 }))).toMatchObject({ decision: 'allow', dependsOnParams: true });
    // The criterion was never reached: the class did not match.
    expect(p.evaluate(pg([stmt('SELECT', 'read')], { params: ['a@b.c'] }))).toMatchObject({
      decision: 'allow',
      dependsOnParams: false,
    });
  });

  it('refuses SQL matchers that cannot mean what they say', () => {
    const rule = (extra: string) => `rules: [ { id: x, effect: allow, connections: [db], ${extra} } ]`;
    expect(() => parsePolicyDocument(rule("sql: { params: '(' }"))).toThrow(/sql.params is not a valid regular/);
    expect(() => parsePolicyDocument(rule('sql: { unparsed: true, classes: [read] }'))).toThrow(
      /unparsed cannot be combined with classes/,
    );
    expect(() => parsePolicyDocument(rule('sql: {}, http: { methods: [GET] }'))).toThrow(/either HTTP/);
    expect(() => parsePolicyDocument(rule('http: { methods: [GET] }, auditLiterals: true'))).toThrow(/auditLiterals/);
    expect(() => parsePolicyDocument(rule('http: { methods: [GET] }, allowMaskedSearch: true'))).toThrow(
      /allowMaskedSearch applies to SQL rules only/,
    );
    expect(() => parsePolicyDocument(rule('sql: { commands: [select] }'))).toThrow(/upper case/);
    expect(() => parsePolicyDocument(rule('sql: { classes: [reads] }'))).toThrow(PolicyDocumentError);
    expect(() => parsePolicyDocument(rule('sql: { risks: [scary] }'))).toThrow(PolicyDocumentError);
    expect(() => parsePolicyDocument(rule('sql: { table: [x] }'))).toThrow(/table/);
    expect(parsePolicyDocument(rule("sql: { unparsed: true, params: '^x$' }")).rules).toHaveLength(1);
  });
});

describe('name patterns', () => {
  it.each([
    ['orders', 'orders', true],
    ['orders', 'public.orders', false],
    ['public.*', 'public.orders', true],
    ['public.*', 'public.a.b', false],
    ['*', 'orders', true],
    ['*', 'public.orders', false],
    ['*.*', 'public.orders', true],
    ['app.audit_*', 'app.audit_log', true],
    ['Orders', 'orders', true],
    ['a+b', 'a+b', true],
    ['a.b', 'axb', false],
  ])('%s against %s → %s', (pattern, name, expected) => {
    expect(compileNamePattern(pattern).test(name)).toBe(expected);
  });
});

describe('policy evaluation of a session start (connect)', () => {
  const CONNECT_POLICY = `
id: connect
version: v1
rules:
  - id: agents-read
    effect: allow
    connections: [db]
    principals: [{ groups: [agents] }]
    sql: { classes: [read] }
  - id: reviewers-write
    effect: review
    connections: [db]
    principals: [{ groups: [writers] }]
    sql: { classes: [write] }
  - id: api-only
    effect: allow
    connections: [db, other]
    principals: [{ groups: [http-users] }]
    http: { methods: [GET] }
  - id: no-risks
    effect: deny
    connections: ["*"]
    sql: { risks: [server-program] }
  - id: banned
    effect: deny
    connections: [db]
    principals: [{ subjects: [mallory] }]
  - id: contractors-anything
    effect: allow
    connections: ["*"]
    principals: [{ groups: [contractors] }]
  - id: contractors-not-prod
    effect: deny
    connections: [prod]
    principals: [{ groups: [contractors] }]
`;
  const policy = new PolicyEvaluator(parsePolicyDocument(CONNECT_POLICY));

  function connect(
    principal: Partial<PolicyEvaluateRequest['principal']>,
    connection = 'db',
    protocol: PolicyEvaluateRequest['protocol'] = 'postgres',
  ): PolicyEvaluateRequest {
    return {
      requestId: uuidv7(),
      sessionId: uuidv7(),
      principal: { issuer: 'https://idp.one', subject: 'bot', groups: [], ...principal },
      connection,
      protocol,
      operation: { kind: 'connect' },
    };
  }

  it('allows a principal some allow or review rule applies to on the connection, whatever its sql criteria', () => {
    const r = connect({ groups: ['agents'] });
    expect(policy.evaluate(r)).toEqual({
      requestId: r.requestId,
      decision: 'allow',
      reason: 'rule agents-read',
      ruleId: 'agents-read',
      policyVersion: 'v1',
      masking: [],
    });
    expect(policy.evaluate(connect({ groups: ['writers'] }))).toMatchObject({
      decision: 'allow',
      ruleId: 'reviewers-write',
    });
  });

  it('denies a principal no rule of the protocol lets do anything on the connection, naming both', () => {
    const r = connect({ subject: 'eve', groups: ['strangers'] });
    expect(policy.evaluate(r)).toEqual({
      requestId: r.requestId,
      decision: 'deny',
      reason: 'no rule lets eve use connection db',
      policyVersion: 'v1',
      masking: [],
    });
    // A rule about HTTP requests says nothing about a PostgreSQL session, and the other way round.
    expect(policy.evaluate(connect({ groups: ['http-users'] })).decision).toBe('deny');
    expect(policy.evaluate(connect({ groups: ['http-users'] }, 'db', 'http')).decision).toBe('allow');
    expect(policy.evaluate(connect({ groups: ['agents'] }, 'db', 'http')).decision).toBe('deny');
    expect(policy.evaluate(connect({ groups: ['agents'] }, 'elsewhere')).decision).toBe('deny');
  });

  it('lets an unconditional deny rule refuse the session, and ignores deny rules with operation criteria', () => {
    expect(policy.evaluate(connect({ subject: 'mallory', groups: ['agents'] }))).toMatchObject({
      decision: 'deny',
      ruleId: 'banned',
      reason: 'rule banned',
    });
    expect(policy.evaluate(connect({ groups: ['contractors'] }, 'staging'))).toMatchObject({
      decision: 'allow',
      ruleId: 'contractors-anything',
    });
    expect(policy.evaluate(connect({ groups: ['contractors'] }, 'prod'))).toMatchObject({
      decision: 'deny',
      ruleId: 'contractors-not-prod',
    });
  });
});
