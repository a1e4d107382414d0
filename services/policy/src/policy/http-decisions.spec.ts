import { uuidv7, type HttpOperation, type PolicyEvaluateRequest } from '@airlock/contracts';
import fc from 'fast-check';
import { PolicyEvaluator } from './evaluator';
import { globMatch } from './glob';
import { PolicyDocumentError, parsePolicyDocument } from './policy-document';

const POLICY = `
id: http
version: v1
rules:
  - id: read
    effect: allow
    connections: [demo]
    http: { methods: [GET], paths: ["/**"] }
  - id: admin
    effect: deny
    connections: [demo]
    http: { paths: ["/admin/**"] }
  - id: no-debug
    effect: deny
    connections: [demo]
    http: { query: [{ name: debug }] }
  - id: only-public-prefix
    effect: review
    connections: [demo]
    http: { methods: [GET], paths: ["/export"], query: [{ name: prefix, value: "private/*" }] }
    approval: { approverGroups: [ops], required: 1, expiresInSeconds: 60 }
  - id: json-only-posts
    effect: allow
    connections: [demo]
    http: { methods: [POST], paths: ["/items"], headers: [{ name: Content-Type, value: "application/json*" }] }
  - id: s3-read
    effect: allow
    connections: [s3]
    http: { s3: { operations: [GetObject, HeadObject, ListObjectsV2], buckets: [data], keys: ["public/**"] } }
  - id: s3-write
    effect: allow
    connections: [s3]
    http: { s3: { operations: [PutObject, CopyObject, DeleteObjects], buckets: [data] } }
  - id: s3-no-bulk-delete
    effect: review
    connections: [s3]
    http: { s3: { operations: [DeleteObjects] } }
    approval: { approverGroups: [ops], required: 1, expiresInSeconds: 60 }
  - id: s3-never-secrets
    effect: deny
    connections: [s3]
    http: { s3: { keys: ["secrets/**"] } }
`;

const policy = new PolicyEvaluator(parsePolicyDocument(POLICY));

function ask(operation: Omit<HttpOperation, 'kind'>, connection = 'demo'): ReturnType<PolicyEvaluator['evaluate']> {
  const req: PolicyEvaluateRequest = {
    requestId: uuidv7(),
    sessionId: uuidv7(),
    principal: { issuer: 'https://idp', subject: 'bot', groups: ['agents'] },
    connection,
    protocol: 'http',
    operation: { kind: 'http', ...operation },
  };
  return policy.evaluate(req);
}

describe('HTTP policy: case', () => {
  it('matches deny rules case-blind and allow rules exactly, unless the upstream tells case apart', () => {
    expect(ask({ method: 'GET', path: '/Admin/x' })).toMatchObject({ decision: 'deny', ruleId: 'admin' });
    expect(ask({ method: 'GET', path: '/ADMIN' })).toMatchObject({ decision: 'deny', ruleId: 'admin' });
    expect(ask({ method: 'GET', path: '/Admin/x', caseSensitive: true })).toMatchObject({ decision: 'allow' });
    const exact = ask({ method: 'POST', path: '/Items', headers: { 'content-type': 'application/json' } });
    expect(exact.decision).toBe('deny');
    expect(exact).not.toHaveProperty('ruleId');
  });
});

describe('HTTP policy: query and headers', () => {
  it('matches query parameters by presence and by value', () => {
    expect(ask({ method: 'GET', path: '/items', query: [{ name: 'debug', value: '1' }] })).toMatchObject({
      decision: 'deny',
      ruleId: 'no-debug',
    });
    expect(ask({ method: 'GET', path: '/items', query: [{ name: 'Debug' }] })).toMatchObject({ decision: 'allow' });
    expect(ask({ method: 'GET', path: '/export', query: [{ name: 'prefix', value: 'Private/x' }] })).toMatchObject({
      decision: 'review',
    });
    expect(ask({ method: 'GET', path: '/export', query: [{ name: 'prefix', value: 'public/x' }] })).toMatchObject({
      decision: 'allow',
    });
    // One matching value among several is enough for a review.
    expect(
      ask({
        method: 'GET',
        path: '/export',
        query: [
          { name: 'prefix', value: 'public/x' },
          { name: 'prefix', value: 'private/y' },
        ],
      }),
    ).toMatchObject({ decision: 'review' });
  });

  it('matches header values, and says so, so that the ingress does not reuse the decision for other headers', () => {
    expect(
      ask({ method: 'POST', path: '/items', headers: { 'content-type': 'application/json; charset=utf-8' } }),
    ).toMatchObject({
      decision: 'allow',
      dependsOnHeaders: true,
    });
    expect(ask({ method: 'POST', path: '/items', headers: { 'content-type': 'text/plain' } })).toMatchObject({
      decision: 'deny',
      dependsOnHeaders: true,
    });
    expect(ask({ method: 'GET', path: '/items' })).not.toHaveProperty('dependsOnHeaders');
  });

  it('refuses a value pattern on an absent parameter', () => {
    expect(() =>
      parsePolicyDocument(
        `rules: [{ id: x, effect: deny, connections: [a], http: { query: [{ name: a, present: false, value: b }] } }]`,
      ),
    ).toThrow(PolicyDocumentError);
  });
});

describe('HTTP policy: S3 operations', () => {
  const s3 = (operation: string, bucket?: string, key?: string, extra: Partial<HttpOperation> = {}) =>
    ask(
      {
        method: 'GET',
        path: `/${bucket ?? ''}${key ? `/${key}` : ''}`,
        caseSensitive: true,
        s3: { operation, ...(bucket ? { bucket } : {}), ...(key ? { key } : {}) },
        ...extra,
      },
      's3',
    );

  it('allows the operations, buckets and keys a rule names, and nothing else', () => {
    expect(s3('GetObject', 'data', 'public/a.txt')).toMatchObject({ decision: 'allow', ruleId: 's3-read' });
    expect(s3('GetObject', 'data', 'private/a.txt').decision).toBe('deny');
    expect(s3('PutObjectAcl', 'data', 'public/a.txt').decision).toBe('deny');
    expect(s3('GetObject', 'other', 'public/a.txt').decision).toBe('deny');
    expect(s3('ListObjectsV2', 'data').decision).toBe('deny');
  });

  it('sees DeleteObjects for what it is, and lets key-scoped denies cover what it cannot see', () => {
    expect(s3('DeleteObjects', 'data')).toMatchObject({ decision: 'deny', ruleId: 's3-never-secrets' });
    expect(s3('GetObject', 'data', 'secrets/k')).toMatchObject({ decision: 'deny', ruleId: 's3-never-secrets' });
  });

  it('refuses a copy unless policy also allows reading its source', () => {
    const copy = (bucket: string, key: string) =>
      ask(
        {
          method: 'PUT',
          path: '/data/public/copy.txt',
          caseSensitive: true,
          s3: { operation: 'CopyObject', bucket: 'data', key: 'public/copy.txt', copySource: { bucket, key } },
        },
        's3',
      );
    expect(copy('data', 'public/a.txt')).toMatchObject({ decision: 'allow', ruleId: 's3-write' });
    const unreadable = copy('data', 'private/a.txt');
    expect(unreadable).toMatchObject({ decision: 'deny' });
    expect(unreadable.reason).toMatch(/copy source data\/private\/a.txt/);
    expect(copy('data', 'secrets/k')).toMatchObject({ decision: 'deny', ruleId: 's3-never-secrets' });
  });

  it('judges the read of a copy source on the path an S3 request for it would have', () => {
    const doc = parsePolicyDocument(`
rules:
  - { id: copy, effect: allow, connections: [s3], http: { s3: { operations: [CopyObject, GetObject] } } }
  - { id: no-odd, effect: deny, connections: [s3], http: { paths: ["/data/a:b+c;d/*"] } }
`);
    const decision = new PolicyEvaluator(doc).evaluate({
      requestId: uuidv7(),
      sessionId: uuidv7(),
      principal: { issuer: 'https://idp', subject: 'bot', groups: [] },
      connection: 's3',
      protocol: 'http',
      operation: {
        kind: 'http',
        method: 'PUT',
        path: '/data/dst',
        caseSensitive: true,
        s3: { operation: 'CopyObject', bucket: 'data', key: 'dst', copySource: { bucket: 'data', key: 'a:b+c;d/é x' } },
      },
    });
    expect(decision).toMatchObject({ decision: 'deny', ruleId: 'no-odd' });
  });

  it('applies s3 rules to S3 operations only', () => {
    expect(ask({ method: 'GET', path: '/data/public/a.txt' }, 's3').decision).toBe('deny');
  });
});

describe('value patterns', () => {
  it('match like an anchored regular expression where * is .*', () => {
    const part = fc.string({ unit: fc.constantFrom('a', 'b', '*', '.'), maxLength: 8 });
    fc.assert(
      fc.property(part, fc.string({ unit: fc.constantFrom('a', 'b', '.', '*'), maxLength: 10 }), (pattern, text) => {
        const re = new RegExp(
          `^${pattern
            .split('*')
            .map((p) => p.replace(/[.]/g, '\\.'))
            .join('.*')}$`,
          's',
        );
        expect(globMatch(pattern, text)).toBe(re.test(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('stay fast on patterns that make a backtracking matcher slow', () => {
    const started = performance.now();
    expect(globMatch('*a*a*a*a*a*a*a*b', 'a'.repeat(8192))).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
