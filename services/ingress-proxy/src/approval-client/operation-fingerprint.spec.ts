import { httpOperationFingerprint, sqlOperationFingerprint } from './operation-fingerprint';

describe('sqlOperationFingerprint', () => {
  it('is a SHA-256 in hex, the same for the same statement and values', () => {
    const a = sqlOperationFingerprint('DELETE FROM t WHERE id = $1', ['1']);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(sqlOperationFingerprint('DELETE FROM t WHERE id = $1', ['1'])).toBe(a);
  });

  it('differs for statements that differ only in a constant', () => {
    expect(sqlOperationFingerprint('DELETE FROM t WHERE id = 1')).not.toBe(
      sqlOperationFingerprint('DELETE FROM t WHERE id = 2'),
    );
  });

  it('differs for different bind parameter values, and tells NULL from the empty string', () => {
    const sql = 'UPDATE t SET note = $1';
    const values = [['a'], ['b'], [null], [''], [], ['a', null], ['a', '']];
    const prints = new Set(values.map((v) => sqlOperationFingerprint(sql, v)));
    expect(prints.size).toBe(values.length);
  });

  it('cannot be forged by moving text between the statement and a value', () => {
    expect(sqlOperationFingerprint('SELECT $1', ['x'])).not.toBe(sqlOperationFingerprint('SELECT $1x', []));
    expect(sqlOperationFingerprint('SELECT "a","b"', [])).not.toBe(sqlOperationFingerprint('SELECT "a"', ['b']));
  });
});

describe('httpOperationFingerprint', () => {
  const base = { method: 'POST', path: '/items/1', query: '?force=1', body: Buffer.from('{"n":1}') };

  it('is the same for the same request', () => {
    expect(httpOperationFingerprint({ ...base, body: Buffer.from('{"n":1}') })).toBe(httpOperationFingerprint(base));
  });

  it.each([
    ['method', { method: 'PUT' }],
    ['path', { path: '/items/2' }],
    ['query', { query: '?force=2' }],
    ['no query', { query: '' }],
    ['body', { body: Buffer.from('{"n":2}') }],
    ['no body', { body: undefined }],
    ['header', { headers: [['x-amz-acl', 'public-read']] as Array<[string, string]> }],
  ])('differs with another %s', (_name, change) => {
    expect(httpOperationFingerprint({ ...base, ...change })).not.toBe(httpOperationFingerprint(base));
  });

  it('differs with another header value', () => {
    const one = httpOperationFingerprint({ ...base, headers: [['x-mode', 'soft']] });
    expect(httpOperationFingerprint({ ...base, headers: [['x-mode', 'hard']] })).not.toBe(one);
    expect(httpOperationFingerprint({ ...base, headers: [['x-mode', 'soft']] })).toBe(one);
  });

  it('treats an absent body as an empty one', () => {
    expect(httpOperationFingerprint({ ...base, body: undefined })).toBe(
      httpOperationFingerprint({ ...base, body: Buffer.alloc(0) }),
    );
  });

  it('never equals a SQL fingerprint', () => {
    expect(httpOperationFingerprint({ method: 'GET', path: '/', query: '' })).not.toBe(sqlOperationFingerprint(''));
  });
});
