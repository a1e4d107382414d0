import { splitGatewayUrl } from './http-path';

describe('gateway URLs', () => {
  it('splits connection, path and query', () => {
    expect(splitGatewayUrl('/c/demo/items/1?x=1')).toEqual({ connection: 'demo', path: '/items/1', query: '?x=1' });
    expect(splitGatewayUrl('/c/demo')).toEqual({ connection: 'demo', path: '/', query: '' });
    expect(splitGatewayUrl('/c/demo?q')).toEqual({ connection: 'demo', path: '/', query: '?q' });
    expect(splitGatewayUrl('/x/demo/items')).toBeUndefined();
    expect(splitGatewayUrl('/c/')).toBeUndefined();
  });
});
