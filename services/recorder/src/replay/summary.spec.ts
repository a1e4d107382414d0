import { summarize } from './summary';

const envelope = {
  id: '019abcde-0000-7000-8000-00000000000a',
  schemaVersion: 1,
  time: '2026-11-25T12:00:00.000Z',
  sessionId: '019abcde-0000-7000-8000-00000000000b',
  requestId: '019abcde-0000-7000-8000-00000000000c',
  actor: { issuer: 'https://idp', subject: 'agent', groups: ['agents'] },
  connection: 'demo',
  protocol: 'http',
  source: 'ingress-proxy',
};
const event = (type: string, data: unknown) => ({ ...envelope, type, data });

describe('operation summaries', () => {
  it('gives what an intercepted operation asked for', () => {
    expect(
      summarize(event('operation.intercepted', { operation: { kind: 'http', method: 'GET', path: '/items' } })),
    ).toEqual({
      method: 'GET',
      path: '/items',
    });
  });

  it('gives what policy decided, and why', () => {
    const s = summarize(
      event('operation.decided', {
        decision: 'allow',
        reason: 'agents may read',
        ruleId: 'agents-read',
        policyVersion: '7',
        masking: ['secrets'],
        cached: true,
      }),
    );
    expect(s).toEqual({
      decision: 'allow',
      reason: 'agents may read',
      ruleId: 'agents-read',
      maskingRules: ['secrets'],
    });
  });

  it('gives the operation and the decision of a read audited in its one completed event', () => {
    const decision = { decision: 'allow', reason: 'agents may read', policyVersion: '7', masking: [], cached: true };
    const s = summarize(
      event('operation.completed', {
        status: 200,
        durationMs: 2,
        upstreamMs: 1,
        bytesOut: 10,
        operation: { kind: 'http', method: 'GET', path: '/items' },
        decision: { ...decision, ruleId: 'agents-read' },
      }),
    );
    expect(s).toMatchObject({ method: 'GET', path: '/items', decision: 'allow', ruleId: 'agents-read', status: 200 });
    expect(
      summarize(
        event('operation.failed', {
          stage: 'upstream',
          reason: 'cut off',
          status: 200,
          operation: { kind: 'http', method: 'GET', path: '/items' },
          decision,
        }),
      ),
    ).toEqual({
      method: 'GET',
      path: '/items',
      decision: 'allow',
      ruleId: undefined,
      stage: 'upstream',
      reason: 'cut off',
      status: 200,
    });
  });

  it('adds up what was masked in a completed response', () => {
    const s = summarize(
      event('operation.completed', {
        status: 200,
        durationMs: 12.5,
        upstreamMs: 9,
        bytesOut: 512,
        masked: { 'field:password': 2, github_token: 1 },
      }),
    );
    expect(s).toEqual({
      status: 200,
      durationMs: 12.5,
      upstreamMs: 9,
      bytesOut: 512,
      masked: { 'field:password': 2, github_token: 1 },
      maskedTotal: 3,
    });
    expect(
      summarize(event('operation.completed', { status: 204, durationMs: 1, upstreamMs: 1, bytesOut: 0 })),
    ).toMatchObject({ masked: {}, maskedTotal: 0 });
  });

  it('gives the reason of a denied operation without guessing the decision (review is refused too)', () => {
    expect(summarize(event('operation.denied', { reason: 'needs approval', policyVersion: '7' }))).toEqual({
      reason: 'needs approval',
    });
  });

  it('gives where a failed operation failed', () => {
    expect(
      summarize(event('operation.failed', { stage: 'upstream', reason: 'upstream unavailable', status: 502 })),
    ).toEqual({ stage: 'upstream', reason: 'upstream unavailable', status: 502 });
  });

  it('has none for other events, nor for data that does not match its type', () => {
    expect(summarize(event('auth.failed', { code: 'missing', reason: 'A bearer token is required.' }))).toBeNull();
    expect(summarize(event('vault.secret_set', { secretVersion: 2, keyId: 'k', rotation: true }))).toBeNull();
    expect(summarize(event('operation.completed', { status: 'ok' }))).toBeNull();
    expect(summarize(event('operation.intercepted', null))).toBeNull();
    expect(summarize({ type: 42 })).toBeNull();
  });
});
