import { Readable } from 'node:stream';
import type { AuditEventDraft, PolicyDecision } from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import type { AuditService } from '../audit/audit.service';
import type { ConnectionRegistry } from '../connections/connection.registry';
import type { LeaseClient } from '../credentials/lease.client';
import type { ResponseMasking } from '../masking/response-masking';
import { GatewayError } from '../errors';
import type { PolicyClient } from '../policy-client/policy-client.service';
import { ProxyService } from './proxy.service';
import type { UpstreamClient } from './upstream.client';

const principal = { issuer: 'https://idp', subject: 'bot', groups: ['agents'] };
const connection = { name: 'demo', protocol: 'http' as const, upstream: new URL('http://127.0.0.1:1') };

function setup(opts: {
  decide?: () => Promise<PolicyDecision>;
  auditFails?: boolean;
  lease?: () => Promise<unknown>;
  contentType?: string;
}) {
  const emitted: AuditEventDraft[] = [];
  const forwarded: string[] = [];
  const audit = {
    emit: jest.fn(async (...d: AuditEventDraft[]) => {
      if (opts.auditFails) throw new MessagingError('broker', 'broker down');
      emitted.push(...d);
      return [];
    }),
    emitAfter: jest.fn((...d: AuditEventDraft[]) => void emitted.push(...d)),
  };
  const policy = {
    evaluate: jest.fn(async () => ({ decision: await (opts.decide ?? (async () => allow()))(), cached: false })),
  };
  const upstream = {
    forward: jest.fn(async (_c: unknown, r: { path: string }) => {
      forwarded.push(r.path);
      return {
        status: 200,
        headers: { 'content-type': opts.contentType ?? 'application/json' },
        body: Readable.from(['ok']),
      };
    }),
  };
  const registry = { get: (n: string) => (n === 'demo' ? connection : undefined) };
  const leases = { lease: jest.fn(opts.lease ?? (() => Promise.reject(new Error('no vault in this test')))) };
  const masking = {
    masker: () => undefined,
    blocksBinary: (rules: string[], ct?: string) => rules.includes('block-binary') && ct === 'application/octet-stream',
  };
  const svc = new ProxyService(
    registry as unknown as ConnectionRegistry,
    policy as unknown as PolicyClient,
    audit as unknown as AuditService,
    upstream as unknown as UpstreamClient,
    leases as unknown as LeaseClient,
    masking as unknown as ResponseMasking,
  );
  const callTo = (url: string) =>
    svc.handle(
      { principal, method: 'GET', url, headers: {}, clientIp: '127.0.0.1' },
      '00000000-0000-7000-8000-000000000001',
    );
  const call = () =>
    svc.handle(
      { principal, method: 'GET', url: '/c/demo/items', headers: {}, clientIp: '127.0.0.1' },
      '00000000-0000-7000-8000-000000000001',
    );
  return { svc, call, callTo, emitted, forwarded, leases };
}

function allow(decision: PolicyDecision['decision'] = 'allow'): PolicyDecision {
  return { requestId: 'x', decision, reason: 'because', policyVersion: 'v1', masking: [] };
}

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe('ProxyService fails closed', () => {
  it('forwards only after the decision is on the audit stream', async () => {
    const t = setup({});
    const fwd = await t.call();
    expect(t.forwarded).toEqual(['/items']);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided']);
    fwd.done({ bytesOut: 2, aborted: false });
    expect(t.emitted.map((e) => e.type)).toContain('operation.completed');
  });

  it('refuses with 503 and never forwards when the audit stream is unavailable', async () => {
    const t = setup({ auditFails: true });
    const err = await refusal(t.call());
    expect(err.status).toBe(503);
    expect(err.code).toBe('audit_unavailable');
    expect(t.forwarded).toEqual([]);
  });

  it.each([
    ['timeout', new MessagingError('timeout', 'no answer')],
    ['broker error', new MessagingError('broker', 'down')],
    ['bad reply', new MessagingError('contract', 'bad')],
    ['unexpected error', new Error('boom')],
  ])('refuses with 503 when policy fails (%s)', async (_n, failure) => {
    const t = setup({ decide: () => Promise.reject(failure) });
    const err = await refusal(t.call());
    expect(err.status).toBe(503);
    expect(err.code).toBe('policy_unavailable');
    expect(t.forwarded).toEqual([]);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.failed']);
  });

  it.each(['deny', 'review'] as const)('refuses a %s decision with 403 and records it', async (decision) => {
    const t = setup({ decide: async () => allow(decision) });
    const err = await refusal(t.call());
    expect(err.status).toBe(403);
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.forwarded).toEqual([]);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided', 'operation.denied']);
  });

  it('refuses with 503 and never forwards when the vault does not answer for a credentialed connection', async () => {
    const t = setup({ lease: () => Promise.reject(new MessagingError('timeout', 'no answer')) });
    const err = await refusal(t.callTo('/c/vaulted/items'));
    expect(err.status).toBe(503);
    expect(err.code).toBe('credential_unavailable');
    expect(t.forwarded).toEqual([]);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided', 'operation.failed']);
  });

  it('answers 404 when the vault knows no such connection', async () => {
    const t = setup({
      lease: () =>
        Promise.reject(
          new MessagingError('remote', 'airlock.vault.lease answered with an error: unknown connection "nope"'),
        ),
    });
    const err = await refusal(t.callTo('/c/nope/items'));
    expect(err.status).toBe(404);
    expect(err.code).toBe('unknown_connection');
    expect(t.forwarded).toEqual([]);
  });

  it('does not ask the vault when policy denies', async () => {
    const t = setup({ decide: async () => allow('deny') });
    await refusal(t.callTo('/c/vaulted/items'));
    expect(t.leases.lease).not.toHaveBeenCalled();
  });

  it('refuses a binary response when policy blocks binary bodies, and lets other answers through', async () => {
    const blocking = async (): Promise<PolicyDecision> => ({ ...allow(), masking: ['block-binary'] });
    const t = setup({ decide: blocking, contentType: 'application/octet-stream' });
    const err = await refusal(t.call());
    expect(err.status).toBe(403);
    expect(err.code).toBe('binary_blocked');
    expect(t.emitted.at(-1)).toMatchObject({ type: 'operation.failed', data: { stage: 'masking', status: 403 } });
    const json = setup({ decide: blocking, contentType: 'application/json' });
    await expect(json.call()).resolves.toMatchObject({ upstream: { status: 200 } });
  });
});
