import { injectCredential, stripAgentCredentials, type OutgoingHeaders } from './credential-injector';

const target = { method: 'GET', url: new URL('http://127.0.0.1:9000/bucket/key%20one.txt?list-type=2&prefix=a') };

describe('credential injection', () => {
  it('drops every agent credential and the ones the connection declares', () => {
    const h: OutgoingHeaders = {
      authorization: 'AWS4-HMAC-SHA256 Credential=agent',
      'proxy-authorization': 'Bearer jwt',
      cookie: 'a=b',
      'x-api-key': 'k',
      'x-amz-date': '20260101T000000Z',
      'x-amz-security-token': 't',
      'x-vendor-key': 'declared',
      accept: 'application/json',
    };
    stripAgentCredentials(h, ['X-Vendor-Key']);
    expect(h).toEqual({ accept: 'application/json' });
  });

  it('injects bearer, header and basic credentials', async () => {
    const h: OutgoingHeaders = {};
    await injectCredential({ kind: 'bearer', token: 't0k' }, h, target);
    expect(h.authorization).toBe('Bearer t0k');
    const g: OutgoingHeaders = {};
    await injectCredential({ kind: 'header', header: 'x-api-key', value: 'v' }, g, target);
    expect(g).toEqual({ 'x-api-key': 'v' });
    const b: OutgoingHeaders = {};
    await injectCredential({ kind: 'basic', username: 'u', password: 'p:w' }, b, target);
    expect(b.authorization).toBe(`Basic ${Buffer.from('u:p:w').toString('base64')}`);
  });

  it('signs S3 requests with SigV4 over the upstream host, without hashing the streamed body', async () => {
    const h: OutgoingHeaders = { 'content-type': 'text/plain', 'x-amz-meta-owner': 'agent', accept: '*/*' };
    await injectCredential(
      { kind: 'aws-sigv4', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', region: 'eu-west-1', service: 's3' },
      h,
      target,
    );
    expect(h.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-owner, Signature=[0-9a-f]{64}$/,
    );
    expect(h['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(h['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(h.accept).toBe('*/*');
    expect(JSON.stringify(h)).not.toContain('secret"');
  });

  it('signs only the allowlisted agent x-amz-* headers and drops the others (ACLs, governance bypass, ...)', async () => {
    const h: OutgoingHeaders = {
      'x-amz-acl': 'public-read',
      'x-amz-grant-read': 'uri=http://acs.amazonaws.com/groups/global/AllUsers',
      'x-amz-bypass-governance-retention': 'true',
      'x-amz-tagging': 'team=x',
      'x-amz-meta-owner': 'agent',
      'x-amz-server-side-encryption': 'AES256',
      'content-type': 'text/plain',
    };
    await injectCredential(
      { kind: 'aws-sigv4', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', region: 'eu-west-1', service: 's3' },
      h,
      target,
    );
    expect(h.authorization).toMatch(
      /SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-owner;x-amz-server-side-encryption,/,
    );
    for (const dropped of ['x-amz-acl', 'x-amz-grant-read', 'x-amz-bypass-governance-retention', 'x-amz-tagging']) {
      expect(h[dropped]).toBeUndefined();
    }
  });

  it('refuses a database credential on an HTTP connection', async () => {
    await expect(
      injectCredential({ kind: 'postgres-password', username: 'u', password: 'p' }, {}, target),
    ).rejects.toThrow(/HTTP/);
  });
});
