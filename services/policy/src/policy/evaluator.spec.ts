import { uuidv7, type PolicyEvaluateRequest } from '@airlock/contracts';
import { PolicyEvaluator } from './evaluator';
import { compilePathPattern } from './glob';
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
