import { awsAgentHeaderAllowed } from '../credentials/credential-injector';
import { filterRequestHeaders, fingerprintHeaders } from './request-headers';

const agent = {
  host: 'gateway',
  connection: 'keep-alive',
  authorization: 'Bearer agent-jwt',
  cookie: 'a=b',
  'x-vendor-key': 'declared',
  'x-http-method-override': 'DELETE',
  'x-http-method': 'DELETE',
  'x-method-override': 'DELETE',
  'x-original-url': '/admin',
  'x-rewrite-url': '/admin',
  'x-forwarded-for': '10.0.0.1',
  'x-forwarded-host': 'internal',
  'x-forwarded-prefix': '/admin',
  forwarded: 'for=10.0.0.1',
  accept: 'application/json',
  'x-amz-acl': 'public-read',
  'x-amz-meta-owner': 'agent',
};

describe('request headers', () => {
  it('drops hop-by-hop, credential, method-override and URL-rewrite headers', () => {
    const r = filterRequestHeaders(agent, { agentCredentialHeaders: ['X-Vendor-Key'], rewrite: 'drop' });
    expect(r).toEqual({
      ok: true,
      headers: { accept: 'application/json', 'x-amz-acl': 'public-read', 'x-amz-meta-owner': 'agent' },
    });
  });

  it('refuses a rewrite header when the connection says so', () => {
    const r = filterRequestHeaders(
      { 'x-forwarded-host': 'internal' },
      { agentCredentialHeaders: [], rewrite: 'refuse' },
    );
    expect(r).toEqual({ ok: false, reason: 'the x-forwarded-host header is not allowed on this connection' });
  });

  it('keeps only the allowlisted x-amz-* headers on an AWS connection', () => {
    const r = filterRequestHeaders(agent, { agentCredentialHeaders: [], rewrite: 'drop', keep: awsAgentHeaderAllowed });
    expect(r.ok && r.headers).toEqual({
      accept: 'application/json',
      'x-vendor-key': 'declared',
      'x-amz-meta-owner': 'agent',
    });
  });

  it('binds approvals to the headers that are not volatile, in one order', () => {
    expect(
      fingerprintHeaders({ 'x-b': '2', date: 'now', 'user-agent': 'curl', traceparent: 't', 'x-a': ['1', '3'] }),
    ).toEqual([
      ['x-a', '1, 3'],
      ['x-b', '2'],
    ]);
  });
});
