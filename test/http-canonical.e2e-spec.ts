import { randomBytes } from 'node:crypto';
import { LenientUpstream, waitFor } from '@airlock/testing';
import { TestSystem } from './support/system';

/**
 * What policy judges is what the upstream receives: an upstream that reads requests leniently
 * (decodes percent-encoding, strips ";" parameters, resolves "..;", ignores case, honours
 * method-override and URL-rewrite headers) never sees a request policy judged as something
 * else. The reproductions of the adversarial review, against the whole system.
 */
describe('HTTP path: one canonical request', () => {
  const sys = new TestSystem();
  const tag = randomBytes(4).toString('hex');
  let lenient: LenientUpstream;
  let s3: LenientUpstream;
  let approver: string;
  let admin: string;

  async function vaulted(name: string, upstream: string, kind: string, secret: object): Promise<void> {
    const created = await sys.admin('/connections', {
      method: 'POST',
      body: JSON.stringify({ name, protocol: 'http', upstream, credentialKind: kind }),
    });
    expect(created.status).toBe(201);
    const set = await sys.admin(`/connections/${name}/secret`, { method: 'PUT', body: JSON.stringify(secret) });
    expect(set.status).toBe(200);
  }

  beforeAll(async () => {
    lenient = await LenientUpstream.start();
    s3 = await LenientUpstream.start();
    await sys.start({ ingressEnv: { APPROVAL_HTTP_WAIT_MS: '300', APPROVAL_RETRY_AFTER_S: '1' } });
    await vaulted('lenient', lenient.url, 'bearer', { token: `lenient-${tag}` });
    await vaulted('s3guard', s3.url, 'aws-sigv4', {
      accessKeyId: 'AKIDGATEWAY',
      secretAccessKey: `gateway-secret-${tag}`,
      region: 'us-east-1',
      service: 's3',
    });
    approver = await sys.token('approver-1', ['approvers']);
    admin = await sys.token('admin-e2e', ['airlock-admins']);
  }, 180000);

  afterAll(async () => {
    await sys.stop();
    await Promise.allSettled([lenient?.stop(), s3?.stop()]);
  }, 60000);

  it('lets an ordinary request through, on the canonical path', async () => {
    const r = await sys.call('/c/lenient/items/%7eme?b=%2f&a');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ raw: '/items/~me?b=%2F&a', path: '/items/~me' });
  });

  it.each([
    '/%61dmin/x',
    '/items/..;/admin/x',
    '/admin;x/y',
    '/Admin/x',
    '/admin%3bx/y',
    '/items/%252e%252e/admin/x',
    '/ADMIN',
    '/items/%2e%2e/admin/x',
    '/%c0%ae%c0%ae/admin/x',
  ])('never lets %s reach the admin API of a lenient upstream', async (path) => {
    const before = lenient.received.length;
    const r = await sys.call(`/c/lenient${path}`);
    expect([400, 403]).toContain(r.status);
    // A path the router cannot even decode is refused by it, before the gateway's own checks.
    if (!path.includes('%c0')) expect(r.body.error).toMatch(/^(bad_path|denied)$/);
    expect(lenient.received.slice(before)).toEqual([]);
  });

  it('judges a spelling it accepts on the canonical path, and records that path', async () => {
    const r = await sys.call('/c/lenient/%61dmin/x');
    expect(r.status).toBe(403);
    const requestId = String(r.body.requestId);
    const events = await sys.audit.waitForRequest(requestId, ['operation.denied']);
    const intercepted = events.find((e) => e.type === 'operation.intercepted')!.event.data as {
      operation: { path: string };
    };
    expect(intercepted.operation.path).toBe('/admin/x');
    expect(events.find((e) => e.type === 'operation.denied')!.event.data).toMatchObject({ ruleId: 'lenient-no-admin' });
  });

  it('never forwards method-override, URL-rewrite or forwarding headers', async () => {
    const before = lenient.received.length;
    const r = await sys.call('/c/lenient/items/1', {
      headers: {
        'x-http-method-override': 'DELETE',
        'x-method-override': 'DELETE',
        'x-original-url': '/admin/x',
        'x-rewrite-url': '/admin/x',
        'x-forwarded-host': 'internal.example',
        forwarded: 'for=10.0.0.1;host=internal.example',
      },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ method: 'GET', path: '/items/1', admin: false });
    const got = lenient.received.slice(before);
    expect(got).toHaveLength(1);
    for (const h of ['x-http-method-override', 'x-method-override', 'x-original-url', 'x-rewrite-url', 'forwarded']) {
      expect(got[0].headers[h]).toBeUndefined();
    }
    expect(got[0].headers['x-forwarded-host']).toBeUndefined();
    expect(got[0].headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('binds an approval to the headers: the approved request runs once, the same one with other headers is held again', async () => {
    const path = `/c/lenient/held/${tag}`;
    const soft = { 'x-delete-mode': 'soft' };
    const first = await sys.call(path, { method: 'DELETE', headers: soft });
    expect(first.status).toBe(202);
    const id = String(first.body.approvalId);
    const decided = await sys.approvalApi(`/approvals/${id}/approve`, {
      method: 'POST',
      token: approver,
      body: '{}',
    });
    expect(decided.status).toBe(200);
    await waitFor('the approval to be approved', async () => {
      const v = await sys.approvalApi(`/approvals/${id}`, { token: admin });
      return v.body.state === 'approved' ? true : undefined;
    });
    const before = lenient.received.length;
    const other = await sys.call(path, { method: 'DELETE', headers: { 'x-delete-mode': 'hard' } });
    expect(other.status).toBe(202);
    expect(other.body.approvalId).not.toBe(id);
    expect(lenient.received.slice(before)).toEqual([]);
    const same = await sys.call(path, { method: 'DELETE', headers: soft });
    expect(same.status).toBe(200);
    const got = lenient.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0].headers['x-delete-mode']).toBe('soft');
  });

  describe('S3', () => {
    it('matches POST /bucket?delete as DeleteObjects, whatever a path rule allows', async () => {
      const before = s3.received.length;
      const r = await sys.call('/c/s3guard/open?delete', {
        method: 'POST',
        body: '<Delete><Object><Key>a</Key></Object></Delete>',
      });
      expect(r.status).toBe(403);
      expect(String(r.body.message)).toContain('bulk deletes are not for agents');
      expect(s3.received.slice(before)).toEqual([]);
      const events = await sys.audit.waitForRequest(String(r.body.requestId), ['operation.denied']);
      const intercepted = events.find((e) => e.type === 'operation.intercepted')!.event.data as {
        operation: { s3?: unknown; query?: unknown; headers?: unknown };
      };
      expect(intercepted.operation.s3).toEqual({ operation: 'DeleteObjects', bucket: 'open' });
      expect(intercepted.operation.query).toBeUndefined();
      expect(intercepted.operation.headers).toBeUndefined();
    });

    it('refuses a copy whose source policy does not let the agent read', async () => {
      const before = s3.received.length;
      const r = await sys.call('/c/s3guard/open/copy.txt', {
        method: 'PUT',
        headers: { 'x-amz-copy-source': '/closed/secret.txt' },
      });
      expect(r.status).toBe(403);
      expect(String(r.body.message)).toContain('closed/secret.txt');
      expect(s3.received.slice(before)).toEqual([]);
      const ok = await sys.call('/c/s3guard/open/copy.txt', {
        method: 'PUT',
        headers: { 'x-amz-copy-source': 'open/a%20b.txt' },
      });
      expect(ok.status).toBe(200);
      expect(s3.received.at(-1)!.headers['x-amz-copy-source']).toBe('/open/a%20b.txt');
    });

    it('neither signs nor forwards x-amz-acl and its kin', async () => {
      const before = s3.received.length;
      const r = await sys.call('/c/s3guard/open/public.txt', {
        method: 'PUT',
        body: 'hello',
        headers: {
          'content-type': 'text/plain',
          'x-amz-acl': 'public-read',
          'x-amz-bypass-governance-retention': 'true',
          'x-amz-meta-owner': 'agent',
        },
      });
      expect(r.status).toBe(200);
      const got = s3.received.slice(before);
      expect(got).toHaveLength(1);
      expect(got[0].headers['x-amz-acl']).toBeUndefined();
      expect(got[0].headers['x-amz-bypass-governance-retention']).toBeUndefined();
      expect(got[0].headers['x-amz-meta-owner']).toBe('agent');
      const auth = String(got[0].headers.authorization);
      expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDGATEWAY\//);
      expect(auth).not.toContain('x-amz-acl');
      expect(auth).toContain('x-amz-meta-owner');
    });
  });
});
