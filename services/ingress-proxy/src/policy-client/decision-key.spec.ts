import type { PolicyEvaluateRequest, PostgresOperation } from '@airlock/contracts';
import { decisionKey } from './policy-client.service';

const base = {
  requestId: '0192f0c0-0000-7000-8000-000000000001',
  sessionId: '0192f0c0-0000-7000-8000-000000000002',
  principal: { issuer: 'https://idp', subject: 'agent', groups: ['b', 'a'] },
  connection: 'db',
  protocol: 'postgres' as const,
};

function pg(op: Partial<PostgresOperation>): PolicyEvaluateRequest {
  return {
    ...base,
    operation: {
      kind: 'postgres',
      via: 'simple',
      sql: 'SELECT set_config($1, $2, $3)',
      fingerprint: 'f00d',
      parsed: true,
      statements: [{ command: 'SELECT', class: 'read', tables: [], functions: ['set_config'], risks: [] }],
      paramCount: 0,
      ...op,
    },
  };
}

describe('decisionKey', () => {
  it('keys a session start on principal and connection, apart from any statement', () => {
    const connect = (over: Partial<PolicyEvaluateRequest> = {}): PolicyEvaluateRequest => ({
      ...base,
      operation: { kind: 'connect' },
      ...over,
    });
    expect(decisionKey(connect())).toBe(decisionKey(connect({ requestId: base.sessionId })));
    expect(decisionKey(connect())).not.toBe(decisionKey(connect({ connection: 'other' })));
    expect(decisionKey(connect())).not.toBe(
      decisionKey(connect({ principal: { ...base.principal, subject: 'someone-else' } })),
    );
    expect(decisionKey(connect())).not.toBe(
      decisionKey(connect({ principal: { ...base.principal, groups: ['a', 'b', 'c'] } })),
    );
    expect(decisionKey(connect())).not.toBe(decisionKey(pg({})));
  });

  it('is the same for texts that differ only in literals and classify alike', () => {
    expect(decisionKey(pg({ sql: 'a' }))).toBe(decisionKey(pg({ sql: 'b' })));
  });

  it('differs when one fingerprint classifies differently (a constant that matters)', () => {
    const risky = pg({
      statements: [
        {
          command: 'SELECT',
          class: 'admin',
          tables: [],
          functions: ['set_config'],
          risks: ['role-change', 'dangerous-function'],
        },
      ],
    });
    expect(decisionKey(risky)).not.toBe(decisionKey(pg({})));
  });

  it('differs with and without bind parameters, and between parsed and unparsed texts', () => {
    expect(decisionKey(pg({ params: ['x'], paramCount: 1 }))).not.toBe(decisionKey(pg({})));
    expect(decisionKey(pg({ parsed: false, statements: [] }))).not.toBe(decisionKey(pg({ statements: [] })));
  });

  it('ignores the order of groups but not the principal', () => {
    const other = { ...pg({}), principal: { ...base.principal, groups: ['a', 'b'] } };
    expect(decisionKey(other)).toBe(decisionKey(pg({})));
    expect(decisionKey({ ...pg({}), principal: { ...base.principal, subject: 'other' } })).not.toBe(
      decisionKey(pg({})),
    );
  });
});

describe('decisionKey of HTTP operations', () => {
  const http = (op: Partial<Extract<PolicyEvaluateRequest['operation'], { kind: 'http' }>>): PolicyEvaluateRequest => ({
    ...base,
    connection: 's3',
    protocol: 'http',
    operation: { kind: 'http', method: 'POST', path: '/bucket', ...op },
  });

  it('tells apart what policy matches: query, S3 operation and case handling', () => {
    const plain = decisionKey(http({}));
    expect(decisionKey(http({ query: [{ name: 'delete' }] }))).not.toBe(plain);
    expect(decisionKey(http({ caseSensitive: true }))).not.toBe(plain);
    expect(decisionKey(http({ s3: { operation: 'DeleteObjects', bucket: 'bucket' } }))).not.toBe(plain);
    const copy = (key: string) =>
      decisionKey(http({ s3: { operation: 'CopyObject', bucket: 'b', key: 'k', copySource: { bucket: 'src', key } } }));
    expect(copy('a')).not.toBe(copy('b'));
  });
});
