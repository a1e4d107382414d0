import { PolicyEvaluator } from './evaluator';
import { PolicyDocumentError, parsePolicyDocument } from './policy-document';

const POLICY = `
id: approvals
rules:
  - id: agents-read
    effect: allow
    connections: [db]
    sql: { classes: [read] }
  - id: drops-need-two
    description: dropping a table needs two DBAs
    effect: review
    connections: [db]
    sql: { commands: [DROP TABLE] }
    approval:
      approverGroups: [dbas]
      required: 2
      expiresInSeconds: 600
      grantSeconds: 0
  - id: deploys-need-one
    effect: review
    connections: [api]
    http: { methods: [POST], paths: ['/deploy'] }
    approval: { approverGroups: [release], required: 1, expiresInSeconds: 300, grantSeconds: 3600 }
`;

const base = {
  requestId: '0192f0c0-0000-7000-8000-000000000001',
  sessionId: '0192f0c0-0000-7000-8000-000000000002',
  principal: { issuer: 'https://idp', subject: 'agent', groups: ['agents'] },
};

describe('approval rules in policy', () => {
  const evaluator = new PolicyEvaluator(parsePolicyDocument(POLICY));

  it('puts the rule of a review decision on it (SQL)', () => {
    const d = evaluator.evaluate({
      ...base,
      connection: 'db',
      protocol: 'postgres',
      operation: {
        kind: 'postgres',
        via: 'simple',
        sql: 'DROP TABLE t',
        fingerprint: 'f',
        parsed: true,
        statements: [{ command: 'DROP TABLE', class: 'ddl', tables: ['t'], functions: [], risks: [] }],
        paramCount: 0,
      },
    });
    expect(d.decision).toBe('review');
    expect(d.approval).toEqual({ approverGroups: ['dbas'], required: 2, expiresInSeconds: 600, grantSeconds: 0 });
  });

  it('puts the rule of a review decision on it (HTTP), and none on other decisions', () => {
    const review = evaluator.evaluate({
      ...base,
      connection: 'api',
      protocol: 'http',
      operation: { kind: 'http', method: 'POST', path: '/deploy' },
    });
    expect(review.approval).toEqual({
      approverGroups: ['release'],
      required: 1,
      expiresInSeconds: 300,
      grantSeconds: 3600,
    });
    const denied = evaluator.evaluate({
      ...base,
      connection: 'api',
      protocol: 'http',
      operation: { kind: 'http', method: 'GET', path: '/deploy' },
    });
    expect(denied.decision).toBe('deny');
    expect(denied.approval).toBeUndefined();
  });

  it('refuses approval settings on a rule that is not a review, and bad settings', () => {
    expect(() =>
      parsePolicyDocument(`rules:
  - id: r
    effect: allow
    connections: ['*']
    approval: { approverGroups: [x], required: 1, expiresInSeconds: 60 }`),
    ).toThrow(/approval applies to rules whose effect is review/);
    expect(() =>
      parsePolicyDocument(`rules:
  - id: r
    effect: review
    connections: ['*']
    approval: { approverGroups: [], required: 0, expiresInSeconds: 60, extra: 1 }`),
    ).toThrow(PolicyDocumentError);
  });
});
