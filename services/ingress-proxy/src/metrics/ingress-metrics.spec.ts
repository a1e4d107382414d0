import type { AuditEventDraft } from '@airlock/contracts';
import { metricsRegistry } from '@airlock/observability';
import { countOutcomes } from './ingress-metrics';

const env = {
  sessionId: '0192f0c0-0000-7000-8000-000000000001',
  requestId: '0192f0c0-0000-7000-8000-000000000002',
  actor: null,
  connection: 'billing',
  protocol: 'http',
  source: 'ingress-proxy',
} as const;

const decision = { decision: 'allow' as const, reason: 'r', policyVersion: 'v1', masking: [], cached: false };

function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ').pop()) : 0;
}

describe('the ingress operation series', () => {
  it('counts each outcome event once, with the decision it carries, its latencies and masking counts', async () => {
    const drafts: AuditEventDraft[] = [
      { ...env, type: 'operation.intercepted', data: { operation: { kind: 'http', method: 'POST', path: '/a' } } },
      {
        ...env,
        type: 'operation.completed',
        data: { status: 200, durationMs: 30, upstreamMs: 20, bytesOut: 1, masked: { 'field:password': 2 } },
      },
      {
        ...env,
        type: 'operation.completed',
        data: { status: 200, durationMs: 3, upstreamMs: 1, bytesOut: 1, decision },
      },
      { ...env, type: 'operation.denied', data: { reason: 'no', policyVersion: 'v1' } },
      {
        ...env,
        type: 'operation.denied',
        data: { reason: 'no', policyVersion: 'v1', approvalId: env.requestId, approvalState: 'denied' },
      },
      { ...env, connection: null, type: 'operation.failed', data: { stage: 'routing', reason: 'x', status: 404 } },
      { ...env, protocol: 'postgres', type: 'session.started', data: { applicationName: 'psql' } } as never,
      {
        ...env,
        protocol: 'postgres',
        type: 'statement.completed',
        data: { command: 'SELECT', rows: 1, durationMs: 5, upstreamMs: 2, rowsMasked: 0 },
      },
      // Written before statements carried the server's time: counted, no split.
      {
        ...env,
        protocol: 'postgres',
        type: 'statement.completed',
        data: { command: 'SELECT', rows: 1, durationMs: 7, rowsMasked: 0 },
      },
    ];
    countOutcomes(drafts);
    const text = await metricsRegistry.metrics();
    const ops = (decision: string, outcome: string, connection = 'billing'): number =>
      sample(
        text,
        `airlock_ingress_operations_total{protocol="http",connection="${connection}",decision="${decision}",outcome="${outcome}"}`,
      );
    expect(ops('allow', 'completed')).toBe(2);
    expect(ops('deny', 'denied')).toBe(1);
    expect(ops('review', 'denied')).toBe(1);
    expect(ops('none', 'failed', 'none')).toBe(1);
    expect(sample(text, 'airlock_ingress_operation_failures_total{protocol="http",stage="routing"}')).toBe(1);
    expect(
      sample(text, 'airlock_ingress_gateway_duration_seconds_sum{protocol="http",connection="billing"}'),
    ).toBeCloseTo(0.012);
    expect(sample(text, 'airlock_ingress_upstream_duration_seconds_count{protocol="http",connection="billing"}')).toBe(
      2,
    );
    const pg = '{protocol="postgres",connection="billing"}';
    expect(sample(text, `airlock_ingress_operation_duration_seconds_count${pg}`)).toBe(2);
    expect(sample(text, `airlock_ingress_upstream_duration_seconds_count${pg}`)).toBe(1);
    expect(sample(text, `airlock_ingress_upstream_duration_seconds_sum${pg}`)).toBeCloseTo(0.002);
    expect(sample(text, `airlock_ingress_gateway_duration_seconds_sum${pg}`)).toBeCloseTo(0.003);
    expect(sample(text, 'airlock_ingress_masked_values_total{rule="field:password"}')).toBe(2);
    expect(sample(text, 'airlock_ingress_pg_sessions_open{connection="billing"}')).toBe(1);
  });
});
