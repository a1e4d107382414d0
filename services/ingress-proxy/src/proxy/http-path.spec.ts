import { ambiguousPathReason, splitGatewayUrl } from './http-path';

describe('gateway URLs', () => {
  it('splits connection, path and query', () => {
    expect(splitGatewayUrl('/c/demo/items/1?x=1')).toEqual({ connection: 'demo', path: '/items/1', query: '?x=1' });
    expect(splitGatewayUrl('/c/demo')).toEqual({ connection: 'demo', path: '/', query: '' });
    expect(splitGatewayUrl('/c/demo?q')).toEqual({ connection: 'demo', path: '/', query: '?q' });
    expect(splitGatewayUrl('/x/demo/items')).toBeUndefined();
    expect(splitGatewayUrl('/c/')).toBeUndefined();
  });

  it.each([
    '/a/../b',
    '/a/./b',
    '/a/..',
    '/a%2f..%2fb',
    '/a%2E%2E/b',
    '/a\\b',
    '/a//b',
    '/a%00b',
    '/a\u0001b',
    '/a%5cb',
  ])('refuses the ambiguous path %s', (p) => {
    expect(ambiguousPathReason(p)).toBeDefined();
  });

  it.each(['/', '/items', '/items/1.json', '/a..b/c', '/%41bc', '/items/~user'])('accepts the plain path %s', (p) => {
    expect(ambiguousPathReason(p)).toBeUndefined();
  });
});
