import { Readable } from 'node:stream';
import type { AuditEventDraft, LeaseSecret, PolicyDecision } from '@airlock/contracts';
import type { ApprovalClient } from '../approval-client/approval.client';
import type { AuditService } from '../audit/audit.service';
import type { IngressConfig } from '../config';
import type { ConnectionRegistry } from '../connections/connection.registry';
import { injectCredential, type OutgoingHeaders } from '../credentials/credential-injector';
import type { ActiveLease, LeaseClient } from '../credentials/lease.client';
import { ResponseMasking } from '../masking/response-masking';
import type { PolicyClient } from '../policy-client/policy-client.service';
import { OperationPipeline } from '../operation/pipeline';
import { HttpGateway, type Handled } from './http-gateway';
import type { UpstreamClient, UpstreamRequest, UpstreamTarget } from './upstream.client';

const principal = { issuer: 'https://idp', subject: 'bot', groups: ['agents'] };

const SECRETS: Record<string, LeaseSecret> = {
  bearer: { kind: 'bearer', token: 'tok-Zq81hs92kLp0' },
  header: { kind: 'header', header: 'x-vendor-key', value: 'vendor-8812kqpz' },
  basic: { kind: 'basic', username: 'svc-user', password: 'pa55/word+x' },
  'aws-sigv4': {
    kind: 'aws-sigv4',
    accessKeyId: 'AKIAEXAMPLEKEY1',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDEXAMPLESESSION',
    region: 'us-east-1',
    service: 's3',
  },
};

/** The values an attacker wants back from each kind, in the encodings a reflecting upstream gives. */
function wanted(secret: LeaseSecret): string[] {
  const values: string[] = [];
  if (secret.kind === 'bearer') values.push(secret.token);
  if (secret.kind === 'header') values.push(secret.value);
  if (secret.kind === 'basic') values.push(secret.password, `${secret.username}:${secret.password}`);
  if (secret.kind === 'aws-sigv4') values.push(secret.secretAccessKey, secret.sessionToken!);
  return values.flatMap((v) => [v, Buffer.from(v).toString('base64'), encodeURIComponent(v), JSON.stringify(v)]);
}

/** An upstream that reflects every request header in its body, a header, a cookie and a redirect. */
function reflecting(opts: { chunk?: number } = {}) {
  const seen: OutgoingHeaders[] = [];
  const upstream = {
    forward: jest.fn(async (target: UpstreamTarget, req: UpstreamRequest) => {
      const headers: OutgoingHeaders = { ...(req.headers as OutgoingHeaders) };
      if (target.credential) {
        await injectCredential(target.credential, headers, { method: req.method, url: new URL('http://up/x') });
      }
      seen.push(headers);
      const all = Object.values(headers).join(' ');
      const body = Buffer.from(
        JSON.stringify({
          headers,
          b64: Buffer.from(all).toString('base64'),
          url: encodeURIComponent(all),
        }),
      );
      const chunk = opts.chunk ?? 7;
      const pieces: Buffer[] = [];
      for (let i = 0; i < body.length; i += chunk) pieces.push(body.subarray(i, i + chunk));
      return {
        status: 200,
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          'x-echo': all,
          'www-authenticate': `Bearer realm="x", error_description="${all}"`,
          location: `https://up.example/back?auth=${encodeURIComponent(all)}`,
          'set-cookie': [`session=${Buffer.from(all).toString('base64')}; HttpOnly`, 'theme=dark'],
        } as Record<string, string | string[]>,
        body: Readable.from(pieces),
      };
    }),
  };
  return { upstream, seen };
}

function setup(opts: { secret: LeaseSecret; masking?: string[]; setCookieConnections?: string[] }) {
  const emitted: AuditEventDraft[] = [];
  const audit = {
    emit: jest.fn(async (...d: AuditEventDraft[]) => void emitted.push(...d)),
    emitAfter: jest.fn((...d: AuditEventDraft[]) => void emitted.push(...d)),
    healthy: true,
  };
  const decision: PolicyDecision = {
    requestId: 'x',
    decision: 'allow',
    reason: 'ok',
    policyVersion: 'v1',
    masking: opts.masking ?? [],
  };
  const policy = { evaluate: jest.fn(async () => ({ decision, cached: false })), cached: () => undefined };
  const lease: ActiveLease = {
    leaseId: 'l1',
    connection: 'vaulted',
    upstream: new URL('http://127.0.0.1:1'),
    agentCredentialHeaders: [],
    secretVersion: 1,
    expiresAt: Date.now() + 60000,
    secret: opts.secret,
  };
  const leases = { lease: jest.fn(async () => lease) };
  const { upstream, seen } = reflecting();
  const config = {
    APPROVAL_HTTP_WAIT_MS: 1000,
    APPROVAL_RETRY_AFTER_S: 7,
    APPROVAL_MAX_BODY_BYTES: 1024,
    APPROVAL_MAX_HELD_REQUESTS: 100,
    APPROVAL_MAX_HELD_BYTES: 1024 * 1024,
    HTTP_SET_COOKIE_CONNECTIONS: opts.setCookieConnections ?? [],
  } as unknown as IngressConfig;
  const masking = new ResponseMasking();
  const pipeline = new OperationPipeline(
    policy as unknown as PolicyClient,
    audit as unknown as AuditService,
    masking,
    {} as ApprovalClient,
  );
  const svc = new HttpGateway(
    { get: () => undefined, settings: () => ({}) } as unknown as ConnectionRegistry,
    pipeline,
    upstream as unknown as UpstreamClient,
    leases as unknown as LeaseClient,
    masking,
    config,
  );
  const call = (headers: Record<string, string> = {}) =>
    svc.handle(
      { principal, method: 'GET', url: '/c/vaulted/debug', headers, clientIp: '127.0.0.1' },
      '00000000-0000-7000-8000-000000000001',
    );
  return { call, emitted, seen, upstream };
}

async function read(h: Handled): Promise<{ text: string; headers: string; counts?: Record<string, number> }> {
  if (h.kind !== 'forwarded') throw new Error('expected a forwarded request');
  const body = Buffer.concat(await h.upstream.body.toArray()).toString('utf8');
  h.done({ bytesOut: body.length, aborted: false });
  return { text: body, headers: JSON.stringify(h.upstream.headers) };
}

describe('nothing the gateway injected comes back', () => {
  it('the reflecting upstream of these tests does hand the credential back (the scanner works)', async () => {
    const { seen, upstream } = reflecting({ chunk: 1000 });
    const res = await upstream.forward(
      {
        upstream: new URL('http://up'),
        agentCredentialHeaders: [],
        credential: SECRETS.bearer,
        identityEncoding: false,
      },
      { method: 'GET', path: '/', query: '', headers: {}, requestId: 'r', clientIp: '127.0.0.1' },
    );
    const text = Buffer.concat(await res.body.toArray()).toString() + JSON.stringify(res.headers);
    expect(seen).toHaveLength(1);
    expect(text).toContain('tok-Zq81hs92kLp0');
    expect(text).toContain(Buffer.from('Bearer tok-Zq81hs92kLp0').toString('base64'));
    expect(text).toContain(encodeURIComponent('Bearer tok-Zq81hs92kLp0'));
  });

  describe.each(Object.keys(SECRETS))('a %s credential', (kind) => {
    it.each([
      ['without masking', []],
      ['with masking', ['secrets']],
    ])('is scrubbed from the body and every header, %s', async (_n, masking) => {
      const t = setup({ secret: SECRETS[kind], masking });
      const got = await read(await t.call());
      for (const form of wanted(SECRETS[kind])) {
        const bare = form.replace(/^"|"$/g, '');
        expect(got.text).not.toContain(bare);
        expect(got.headers).not.toContain(bare);
      }
      const all = Object.values(t.seen[0]).join(' ');
      expect(got.text + got.headers).not.toContain(Buffer.from(all).toString('base64'));
      expect(got.text + got.headers).not.toContain(encodeURIComponent(all));
      expect(got.text).toContain('[MASKED:credential]');
      const completed = t.emitted.find((e) => e.type === 'operation.completed');
      const masked = (completed?.data as { masked?: Record<string, number> }).masked ?? {};
      expect(masked.credential).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(t.emitted)).not.toContain(SECRETS[kind].kind === 'bearer' ? 'tok-Zq81hs92kLp0' : '\u0000');
    });
  });

  it('drops Set-Cookie unless the connection allows it, and scrubs it when it does', async () => {
    const dropped = await read(await setup({ secret: SECRETS.bearer }).call());
    expect(dropped.headers).not.toMatch(/set-cookie/i);
    const allowed = await read(await setup({ secret: SECRETS.bearer, setCookieConnections: ['vaulted'] }).call());
    const cookies = (JSON.parse(allowed.headers) as Record<string, string[]>)['set-cookie'];
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^session=.*\[MASKED:credential\].*; HttpOnly$/);
    expect(cookies[0]).not.toContain(Buffer.from('Bearer tok-Zq81hs92kLp0').toString('base64'));
    expect(cookies[1]).toBe('theme=dark');
  });

  it('drops Range and If-Range on a masked connection, keeps them on an unmasked one', async () => {
    const masked = setup({ secret: SECRETS.bearer, masking: ['secrets'] });
    await read(await masked.call({ range: 'bytes=7-', 'if-range': '"etag"', accept: 'application/json' }));
    expect(masked.seen[0].range).toBeUndefined();
    expect(masked.seen[0]['if-range']).toBeUndefined();
    expect(masked.seen[0].accept).toBe('application/json');
    const plain = setup({ secret: SECRETS.bearer });
    await read(await plain.call({ range: 'bytes=7-' }));
    expect(plain.seen[0].range).toBe('bytes=7-');
  });
});
