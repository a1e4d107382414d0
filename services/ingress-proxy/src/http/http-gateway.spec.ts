import { Readable } from 'node:stream';
import type {
  ApprovalReply,
  ApprovalRequest,
  AuditEventDraft,
  PolicyDecision,
  PolicyEvaluateRequest,
} from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import type { ApprovalClient } from '../approval-client/approval.client';
import { ApprovalUnavailableError, type HoldOptions, type HoldResult } from '../approval-client/hold';
import type { AuditService } from '../audit/audit.service';
import type { IngressConfig } from '../config';
import type { ConnectionRegistry } from '../connections/connection.registry';
import type { LeaseClient } from '../credentials/lease.client';
import type { ResponseMasking } from '../masking/response-masking';
import { GatewayError } from '../errors';
import type { PolicyClient } from '../policy-client/policy-client.service';
import { OperationPipeline } from '../operation/pipeline';
import { HttpGateway, type Forwarded, type Handled } from './http-gateway';
import type { UpstreamClient } from './upstream.client';

const principal = { issuer: 'https://idp', subject: 'bot', groups: ['agents'] };
const connection = { name: 'demo', protocol: 'http' as const, upstream: new URL('http://127.0.0.1:1') };

function setup(opts: {
  decide?: () => Promise<PolicyDecision>;
  auditFails?: boolean;
  lease?: () => Promise<unknown>;
  contentType?: string;
  /** What the approval service answers first, and how the hold ends. */
  hold?: { first?: ApprovalReply; result?: HoldResult; error?: unknown };
  maxBody?: number;
  maxHeld?: { requests?: number; bytes?: number };
}) {
  const emitted: AuditEventDraft[] = [];
  const forwarded: string[] = [];
  const sent: Array<{ path: string; query: string; headers: Record<string, unknown> }> = [];
  const bodies: Array<string | undefined> = [];
  const audit = {
    emit: jest.fn(async (...d: AuditEventDraft[]) => {
      if (opts.auditFails) throw new MessagingError('broker', 'broker down');
      emitted.push(...d);
      return [];
    }),
    emitAfter: jest.fn((...d: AuditEventDraft[]) => void emitted.push(...d)),
    healthy: !opts.auditFails,
  };
  const policy = {
    evaluate: jest.fn(async (req: PolicyEvaluateRequest) => {
      judged.push(req);
      return { decision: await (opts.decide ?? (async () => allow()))(), cached: false };
    }),
    cached: () => undefined,
  };
  const upstream = {
    forward: jest.fn(
      async (_c: unknown, r: { path: string; query: string; headers: Record<string, unknown>; body?: Readable }) => {
        forwarded.push(r.path);
        sent.push({ path: r.path, query: r.query, headers: r.headers });
        bodies.push(r.body ? Buffer.concat(await r.body.toArray()).toString() : undefined);
        return {
          status: 200,
          headers: { 'content-type': opts.contentType ?? 'application/json' },
          body: Readable.from(['ok']),
        };
      },
    ),
  };
  const judged: PolicyEvaluateRequest[] = [];
  const registry = { get: (n: string) => (n === 'demo' ? connection : undefined), settings: () => ({}) };
  const leases = { lease: jest.fn(opts.lease ?? (() => Promise.reject(new Error('no vault in this test')))) };
  const masking = {
    masker: () => undefined,
    needles: () => undefined,
    maskHeaders: (h: Record<string, string | string[]>) => ({ ...h }),
    blocksBinary: (rules: string[], ct?: string) => rules.includes('block-binary') && ct === 'application/octet-stream',
  };
  const asked: ApprovalRequest[] = [];
  const approvals = {
    hold: jest.fn(async (req: ApprovalRequest, o: HoldOptions): Promise<HoldResult> => {
      asked.push(req);
      if (opts.hold?.error) throw opts.hold.error;
      const first = opts.hold?.first ?? pendingReply();
      await o.onHeld(first);
      return opts.hold?.result ?? { kind: 'approved', approvalId: first.approvalId };
    }),
  };
  const config = {
    APPROVAL_HTTP_WAIT_MS: 1000,
    APPROVAL_RETRY_AFTER_S: 7,
    APPROVAL_MAX_BODY_BYTES: opts.maxBody ?? 1024,
    APPROVAL_MAX_HELD_REQUESTS: opts.maxHeld?.requests ?? 100,
    APPROVAL_MAX_HELD_BYTES: opts.maxHeld?.bytes ?? 1024 * 1024,
    HTTP_SET_COOKIE_CONNECTIONS: [] as string[],
  } as IngressConfig;
  const pipeline = new OperationPipeline(
    policy as unknown as PolicyClient,
    audit as unknown as AuditService,
    masking as unknown as ResponseMasking,
    approvals as unknown as ApprovalClient,
  );
  const svc = new HttpGateway(
    registry as unknown as ConnectionRegistry,
    pipeline,
    upstream as unknown as UpstreamClient,
    leases as unknown as LeaseClient,
    masking as unknown as ResponseMasking,
    config,
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
  const send = (method: string, url: string, body?: string, headers: Record<string, string> = {}) =>
    svc.handle(
      {
        principal,
        method,
        url,
        headers,
        body: body === undefined ? undefined : Readable.from([Buffer.from(body)]),
        clientIp: '127.0.0.1',
      },
      '00000000-0000-7000-8000-000000000001',
    );
  return { svc, call, callTo, send, emitted, forwarded, sent, judged, bodies, leases, asked, approvals, audit };
}

const APPROVAL = '00000000-0000-7000-8000-0000000000aa';

function pendingReply(extra: Partial<ApprovalReply> = {}): ApprovalReply {
  return {
    requestId: 'x',
    approvalId: APPROVAL,
    state: 'pending',
    expiresAt: '2030-01-01T00:00:00.000Z',
    url: `https://approvals.example/approvals/${APPROVAL}`,
    ...extra,
  };
}

function review(): PolicyDecision {
  return {
    ...allow('review'),
    ruleId: 'needs-a-person',
    approval: { approverGroups: ['approvers'], required: 1, expiresInSeconds: 600 },
  };
}

function forwardedOf(h: Handled): Forwarded {
  if (h.kind !== 'forwarded') throw new Error(`expected a forwarded request, got ${h.kind}`);
  return h;
}

function bearerLease(extra: { agentCredentialHeaders?: string[] } = {}) {
  return {
    leaseId: 'l',
    connection: 'vaulted',
    upstream: new URL('http://127.0.0.1:2'),
    agentCredentialHeaders: extra.agentCredentialHeaders ?? [],
    secretVersion: 1,
    expiresAt: Date.now() + 60_000,
    secret: { kind: 'bearer' as const, token: 't' },
  };
}

function s3Lease() {
  return {
    ...bearerLease(),
    secret: {
      kind: 'aws-sigv4' as const,
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
      region: 'us-east-1',
      service: 's3',
    },
  };
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
  it('forwards what can change anything only after the decision is on the audit stream', async () => {
    const t = setup({});
    const fwd = forwardedOf(await t.send('POST', '/c/demo/items'));
    expect(t.forwarded).toEqual(['/items']);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided']);
    expect(t.audit.emit).toHaveBeenCalledTimes(1);
    fwd.done({ bytesOut: 2, aborted: false });
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided', 'operation.completed']);
    expect(t.emitted[2].data).not.toHaveProperty('decision');
  });

  it('records a read allowed outright in one event when it ends, with its operation and decision', async () => {
    const t = setup({});
    const fwd = forwardedOf(await t.call());
    expect(t.forwarded).toEqual(['/items']);
    expect(t.emitted).toEqual([]);
    fwd.done({ bytesOut: 2, aborted: false });
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.completed']);
    expect(t.emitted[0].data).toMatchObject({
      status: 200,
      bytesOut: 2,
      operation: { kind: 'http', method: 'GET', path: '/items' },
      decision: { decision: 'allow', policyVersion: 'v1', cached: false },
    });
    expect(t.audit.emit).not.toHaveBeenCalled();
  });

  it('records a read whose response was cut off in one operation.failed event, folded the same way', async () => {
    const t = setup({});
    const fwd = forwardedOf(await t.call());
    fwd.done({ bytesOut: 1, aborted: true });
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.failed']);
    expect(t.emitted[0].data).toMatchObject({
      stage: 'upstream',
      operation: { method: 'GET' },
      decision: { decision: 'allow' },
    });
  });

  it('audits a read first, like anything else, once the stream has stopped acknowledging', async () => {
    const t = setup({});
    t.audit.healthy = false;
    const fwd = forwardedOf(await t.call());
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided']);
    fwd.done({ bytesOut: 2, aborted: false });
    expect(t.emitted[2].data).not.toHaveProperty('operation');
  });

  it('audits a read that policy holds for review before it waits', async () => {
    const t = setup({ decide: async () => review() });
    await t.call();
    expect(t.emitted.slice(0, 2).map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided']);
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

  it.each(['deny', 'review'] as const)('refuses a %s decision without approvers with 403', async (decision) => {
    const t = setup({ decide: async () => allow(decision) });
    const err = await refusal(t.call());
    expect(err.status).toBe(403);
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.forwarded).toEqual([]);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided', 'operation.denied']);
    if (decision === 'review') expect(err.publicMessage).toMatch(/names no approvers/);
  });

  it('refuses with 503 and never forwards when the vault does not answer for a credentialed connection', async () => {
    const t = setup({ lease: () => Promise.reject(new MessagingError('timeout', 'no answer')) });
    const err = await refusal(t.callTo('/c/vaulted/items'));
    expect(err.status).toBe(503);
    expect(err.code).toBe('credential_unavailable');
    expect(t.forwarded).toEqual([]);
    expect(t.judged).toEqual([]);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.failed']);
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
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided', 'operation.failed']);
  });

  it('denies a name the vault does not know like any other when policy denies it', async () => {
    const t = setup({
      decide: async () => allow('deny'),
      lease: () =>
        Promise.reject(
          new MessagingError('remote', 'airlock.vault.lease answered with an error: unknown connection "nope"'),
        ),
    });
    const err = await refusal(t.callTo('/c/nope/items'));
    expect(err.status).toBe(403);
    expect(err.code).toBe('denied');
  });

  it('reads the lease before policy (its kind decides how the request is read) and forwards nothing policy denies', async () => {
    const t = setup({ decide: async () => allow('deny'), lease: async () => bearerLease() });
    await refusal(t.callTo('/c/vaulted/items'));
    expect(t.leases.lease).toHaveBeenCalledTimes(1);
    expect(t.judged).toHaveLength(1);
    expect(t.forwarded).toEqual([]);
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

describe('ProxyService holds a review decision for approval', () => {
  it('forwards the exact held body once approved, with each audit event once', async () => {
    const t = setup({ decide: async () => review() });
    const fwd = forwardedOf(await t.send('POST', '/c/demo/items?dry=0', '{"n":1}'));
    expect(t.forwarded).toEqual(['/items']);
    expect(t.bodies).toEqual(['{"n":1}']);
    fwd.done({ bytesOut: 2, aborted: false });
    expect(t.emitted.map((e) => e.type)).toEqual([
      'operation.intercepted',
      'operation.decided',
      'operation.held',
      'operation.completed',
    ]);
    const [req] = t.asked;
    expect(req).toMatchObject({
      protocol: 'http',
      connection: 'demo',
      ruleId: 'needs-a-person',
      rules: { approverGroups: ['approvers'] },
      operation: { kind: 'http', method: 'POST', path: '/items' },
      detail: 'POST /items?dry=0\n\n{"n":1}',
    });
    expect(req.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('binds the approval to the body: another body is another fingerprint', async () => {
    const t = setup({ decide: async () => review() });
    await t.send('POST', '/c/demo/items', '{"n":1}');
    await t.send('POST', '/c/demo/items', '{"n":2}');
    await t.send('POST', '/c/demo/items', '{"n":1}');
    const [a, b, c] = t.asked.map((r) => r.fingerprint);
    expect(a).not.toBe(b);
    expect(a).toBe(c);
  });

  it('refuses a body over the limit with 413 before asking for an approval', async () => {
    const t = setup({ decide: async () => review(), maxBody: 4 });
    const err = await refusal(t.send('POST', '/c/demo/items', '12345'));
    expect(err.status).toBe(413);
    expect(err.publicMessage).toMatch(/at most 4 bytes/);
    expect(t.asked).toHaveLength(0);
    expect(t.emitted.at(-1)).toMatchObject({ type: 'operation.failed', data: { stage: 'approval', status: 413 } });
    const declared = setup({ decide: async () => review(), maxBody: 4 });
    const early = await refusal(declared.send('POST', '/c/demo/items', '1', { 'content-length': '5' }));
    expect(early.status).toBe(413);
  });

  it('refuses with 503 when held bodies together would pass their bound, and gives the room back afterwards', async () => {
    const t = setup({ decide: async () => review(), maxHeld: { bytes: 8 } });
    const err = await refusal(t.send('POST', '/c/demo/items', '123456789'));
    expect(err.status).toBe(503);
    expect(err.code).toBe('approval_capacity');
    expect(t.asked).toHaveLength(0);
    expect(t.emitted.at(-1)).toMatchObject({ type: 'operation.failed', data: { stage: 'approval', status: 503 } });
    // Bodies that fit are held one after the other: each gives its room back when its hold ends.
    for (let i = 0; i < 3; i++)
      expect(await t.send('POST', '/c/demo/items', '12345678')).toMatchObject({ kind: 'forwarded' });
  });

  it('refuses with 503 while as many requests as allowed are held', async () => {
    const t = setup({ decide: async () => review(), maxHeld: { requests: 1 } });
    let release!: () => void;
    t.approvals.hold.mockImplementationOnce(
      () => new Promise<HoldResult>((r) => (release = () => r({ kind: 'approved', approvalId: APPROVAL }))),
    );
    const first = t.send('DELETE', '/c/demo/items/1');
    await new Promise((r) => setImmediate(r));
    const second = await refusal(t.send('DELETE', '/c/demo/items/2'));
    expect(second.status).toBe(503);
    expect(second.code).toBe('approval_capacity');
    release();
    expect(await first).toMatchObject({ kind: 'forwarded' });
    expect(await t.send('DELETE', '/c/demo/items/3')).toMatchObject({ kind: 'forwarded' });
  });

  it.each(['denied', 'expired', 'cancelled'] as const)('refuses with 403 when the approval was %s', async (state) => {
    const t = setup({
      decide: async () => review(),
      hold: { result: { kind: 'refused', approvalId: APPROVAL, state } },
    });
    const err = await refusal(t.send('DELETE', '/c/demo/items/1'));
    expect(err.status).toBe(403);
    expect(err.publicMessage).toContain(`approval ${APPROVAL}`);
    expect(err.publicMessage).toContain(state);
    expect(t.forwarded).toEqual([]);
    expect(t.emitted.map((e) => e.type)).toEqual([
      'operation.intercepted',
      'operation.decided',
      'operation.held',
      'operation.denied',
    ]);
    expect(t.emitted.at(-1)).toMatchObject({ data: { approvalId: APPROVAL, approvalState: state } });
  });

  it('answers pending with the approval when nobody decided in time, and records nothing after the hold', async () => {
    const first = pendingReply();
    const t = setup({ decide: async () => review(), hold: { first, result: { kind: 'pending', reply: first } } });
    const handled = await t.send('DELETE', '/c/demo/items/1');
    expect(handled).toEqual({
      kind: 'pending',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      approvalId: APPROVAL,
      url: first.url,
      expiresAt: first.expiresAt,
      retryAfterSeconds: 7,
    });
    expect(t.forwarded).toEqual([]);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided', 'operation.held']);
  });

  it('refuses with 503 when the approval service does not answer', async () => {
    const t = setup({
      decide: async () => review(),
      hold: { error: new ApprovalUnavailableError({ cause: new MessagingError('timeout', 'no answer') }) },
    });
    const err = await refusal(t.send('DELETE', '/c/demo/items/1'));
    expect(err.status).toBe(503);
    expect(err.code).toBe('approval_unavailable');
    expect(err.publicMessage).toBe('the approval service did not answer; request refused');
    expect(t.forwarded).toEqual([]);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.decided', 'operation.failed']);
    expect(t.emitted.at(-1)).toMatchObject({ data: { stage: 'approval', status: 503 } });
  });

  it('never asks for an approval when the audit trail is unavailable', async () => {
    const t = setup({ decide: async () => review(), auditFails: true });
    const err = await refusal(t.send('DELETE', '/c/demo/items/1'));
    expect(err.code).toBe('audit_unavailable');
    expect(t.asked).toHaveLength(0);
  });
});

describe('ProxyService judges and forwards one canonical request', () => {
  it('gives policy and the upstream the same canonical path and query', async () => {
    const t = setup({});
    const get = forwardedOf(await t.callTo('/c/demo/%61dmin/%7eme?b=%2F&a'));
    get.done({ bytesOut: 2, aborted: false });
    expect(t.judged[0].operation).toMatchObject({
      path: '/admin/~me',
      query: [{ name: 'b', value: '/' }, { name: 'a' }],
    });
    expect(t.sent[0]).toMatchObject({ path: '/admin/~me', query: '?b=%2F&a' });
    const fwd = forwardedOf(await t.send('DELETE', '/c/demo/%61dmin/%7eme?b=%2F&a'));
    const intercepted = t.emitted.find((e) => e.type === 'operation.intercepted')!;
    // The query and the headers are for policy only: never in audit events.
    expect(intercepted.data).toEqual({ operation: { kind: 'http', method: 'DELETE', path: '/admin/~me' } });
    fwd.done({ bytesOut: 2, aborted: false });
    const read = t.emitted.find((e) => e.type === 'operation.completed' && 'operation' in e.data)!;
    expect(read.data).toMatchObject({ operation: { kind: 'http', method: 'GET', path: '/admin/~me' } });
    expect(read.data).not.toHaveProperty('operation.query');
    expect(read.data).not.toHaveProperty('operation.headers');
  });

  it.each([
    '/c/demo/items/..;/admin/x',
    '/c/demo/admin;x/y',
    '/c/demo/admin%3bx/y',
    '/c/demo/items/%252e%252e/admin/x',
  ])('refuses %s with 400 before policy is asked', async (url) => {
    const t = setup({});
    const err = await refusal(t.callTo(url));
    expect(err.status).toBe(400);
    expect(err.code).toBe('bad_path');
    expect(t.judged).toEqual([]);
    expect(t.forwarded).toEqual([]);
    expect(t.emitted.map((e) => e.type)).toEqual(['operation.intercepted', 'operation.failed']);
  });

  it('drops method-override, URL-rewrite and forwarding headers, and never shows header values to the audit trail', async () => {
    const t = setup({});
    await t.send('GET', '/c/demo/items', undefined, {
      'x-http-method-override': 'DELETE',
      'x-original-url': '/admin',
      'x-rewrite-url': '/admin',
      'x-forwarded-host': 'evil',
      forwarded: 'for=1.2.3.4',
      'x-custom': 'kept',
    });
    expect(t.sent[0].headers).toEqual({ 'x-custom': 'kept' });
    expect(t.judged[0].operation).toMatchObject({ headers: { 'x-custom': 'kept' } });
    expect(JSON.stringify(t.emitted)).not.toContain('kept');
  });

  it('reads an S3 request as its operation and checks a copy source as policy input', async () => {
    const t = setup({ lease: async () => s3Lease() });
    await t.send('POST', '/c/s3/bucket?delete', '<Delete/>');
    await t.send('PUT', '/c/s3/bucket/dst.txt', '', {
      'x-amz-copy-source': 'secret/a%20b.txt',
      'x-amz-acl': 'public-read',
    });
    expect(t.judged.map((j) => (j.operation.kind === 'http' ? j.operation.s3 : undefined))).toEqual([
      { operation: 'DeleteObjects', bucket: 'bucket' },
      { operation: 'CopyObject', bucket: 'bucket', key: 'dst.txt', copySource: { bucket: 'secret', key: 'a b.txt' } },
    ]);
    expect(t.sent[1].headers['x-amz-copy-source']).toBe('/secret/a%20b.txt');
    expect(t.sent[1].headers['x-amz-acl']).toBeUndefined();
  });

  it('binds an approval to the forwarded headers, not to volatile ones', async () => {
    const t = setup({ decide: async () => review() });
    await t.send('DELETE', '/c/demo/items/1', undefined, { 'x-mode': 'soft', date: 'Mon', traceparent: 'a' });
    await t.send('DELETE', '/c/demo/items/1', undefined, { 'x-mode': 'hard', date: 'Mon', traceparent: 'a' });
    await t.send('DELETE', '/c/demo/items/1', undefined, { 'x-mode': 'soft', date: 'Tue', traceparent: 'b' });
    const [a, b, c] = t.asked.map((r) => r.fingerprint);
    expect(a).not.toBe(b);
    expect(a).toBe(c);
  });
});
