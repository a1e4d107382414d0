import { loadSqlParser } from '@airlock/sql';
import { DryRunBodySchema, InvalidBodyError, ValidateBodySchema, parseBody } from './dto/admin.dto';
import { dryRunOperation, parseQuery } from './dry-run';
import { PolicyEvaluator } from './evaluator';
import { checkPolicyDocument, parsePolicyDocument } from './policy-document';

beforeAll(() => loadSqlParser());

const policy = parsePolicyDocument(`
id: t
version: v1
rules:
  - id: read
    effect: allow
    connections: [db]
    principals: [{ groups: [agents] }]
    sql: { classes: [read] }
  - id: no-unbounded
    effect: deny
    connections: [db]
    sql: { risks: [write-without-where] }
  - id: held
    effect: review
    connections: [api]
    http: { methods: [DELETE], paths: ['/items/**'] }
    approval: { approverGroups: [dba], required: 1, expiresInSeconds: 60 }
`);

function decide(body: unknown) {
  const parsed = parseBody(DryRunBodySchema, body);
  const operation = dryRunOperation(parsed);
  return {
    operation,
    decision: new PolicyEvaluator(policy).evaluate({
      requestId: '019abcde-0000-7000-8000-000000000001',
      sessionId: '019abcde-0000-7000-8000-000000000002',
      principal: parsed.principal,
      connection: parsed.connection,
      protocol: operation.kind === 'postgres' ? 'postgres' : 'http',
      operation,
    }),
  };
}

describe('the dry run', () => {
  it('classifies SQL with the parser and qualifies tables under the search path', () => {
    const d = decide({ principal: { subject: 'a', groups: ['agents'] }, connection: 'db', sql: 'DELETE FROM t' });
    expect(d.decision).toMatchObject({ decision: 'deny', ruleId: 'no-unbounded' });
    expect(d.operation).toMatchObject({
      kind: 'postgres',
      via: 'simple',
      parsed: true,
      statements: [{ command: 'DELETE', class: 'write', tables: ['public.t'], risks: ['write-without-where'] }],
    });
    const read = decide({
      principal: { subject: 'a', groups: ['agents'] },
      connection: 'db',
      sql: 'SELECT * FROM t WHERE id = $1',
      params: ['7'],
      searchPath: ['app', 'public'],
    });
    expect(read.decision).toMatchObject({ decision: 'allow', ruleId: 'read' });
    expect(read.operation).toMatchObject({
      via: 'extended',
      paramCount: 1,
      statements: [{ tables: ['app.t', 'public.t'] }],
    });
  });

  it('builds the HTTP operation with its query decoded, and carries the approval of a review', () => {
    const d = decide({
      principal: { subject: 'a' },
      connection: 'api',
      http: { method: 'delete', path: '/items/1', query: 'force&why=clean+up%21', headers: { 'X-Tenant': 'acme' } },
    });
    expect(d.operation).toEqual({
      kind: 'http',
      method: 'DELETE',
      path: '/items/1',
      query: [{ name: 'force' }, { name: 'why', value: 'clean up!' }],
      headers: { 'x-tenant': 'acme' },
    });
    expect(d.decision).toMatchObject({ decision: 'review', approval: { approverGroups: ['dba'], required: 1 } });
    expect(parseQuery('?a=1&&b=%zz')).toEqual([
      { name: 'a', value: '1' },
      { name: 'b', value: '%zz' },
    ]);
  });

  it('refuses a body that names neither or both, or unknown fields, naming them', () => {
    const problem = (body: unknown) => {
      try {
        parseBody(DryRunBodySchema, body);
      } catch (err) {
        if (err instanceof InvalidBodyError) return err.message;
      }
      throw new Error('expected a refusal');
    };
    expect(problem({ principal: { subject: 'a' }, connection: 'db' })).toMatch(/either sql .* or http/);
    expect(problem({ principal: { subject: 'a' }, connection: 'db', sql: 'x', verbose: true })).toMatch(
      /unknown field verbose/,
    );
    expect(problem({ principal: {}, connection: 'db', sql: 'x' })).toMatch(/^principal\.subject: /);
    expect(
      problem({ principal: { subject: 'a' }, connection: 'api', http: { method: 'GET', path: '/' }, params: ['1'] }),
    ).toMatch(/params and searchPath go with sql/);
    expect(() => parseBody(ValidateBodySchema, undefined)).toThrow(/^document: /);
  });
});

describe('validating a policy document', () => {
  it('gives one sentence per problem, with where it is', () => {
    const r = checkPolicyDocument(
      'rules:\n  - id: a\n    effect: maybe\n    connections: [x]\n  - id: b\n    effect: deny\n',
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rules\.0\.effect: /),
        expect.stringMatching(/^rules\.1\.connections: /),
      ]),
    );
    expect(checkPolicyDocument('a: [').ok).toBe(false);
  });
});
