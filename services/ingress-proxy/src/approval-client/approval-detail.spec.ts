import { BODY_SHOWN_MAX, DETAIL_MAX, describeBody, httpApprovalDetail, sqlApprovalDetail } from './approval-detail';

describe('httpApprovalDetail', () => {
  it('shows the request line with its query, and a text body after a blank line', () => {
    expect(httpApprovalDetail({ method: 'DELETE', path: '/items/1', query: '' })).toBe('DELETE /items/1');
    expect(httpApprovalDetail({ method: 'POST', path: '/items', query: '?dry=0', body: Buffer.from('{"n":1}') })).toBe(
      'POST /items?dry=0\n\n{"n":1}',
    );
    expect(httpApprovalDetail({ method: 'POST', path: '/items', query: '', body: Buffer.alloc(0) })).toBe(
      'POST /items',
    );
  });

  it('shows the headers the approval is bound to, under the request line', () => {
    expect(
      httpApprovalDetail({
        method: 'PUT',
        path: '/b/k',
        query: '',
        headers: [
          ['content-type', 'text/plain'],
          ['x-amz-meta-owner', 'agent'],
        ],
        body: Buffer.from('hi'),
      }),
    ).toBe('PUT /b/k\ncontent-type: text/plain\nx-amz-meta-owner: agent\n\nhi');
  });

  it('describes a binary body instead of showing it', () => {
    expect(describeBody(Buffer.from([0xff, 0xfe, 0x00, 0x01]))).toBe('<4 bytes of binary data>');
    expect(describeBody(Buffer.from('text with an escape \u001b[2J'))).toMatch(/^<\d+ bytes of binary data>$/);
    expect(describeBody(Buffer.from('tabs\tand\r\nlines are text'))).toBe('tabs\tand\r\nlines are text');
  });

  it('cuts a long text body and says so', () => {
    const shown = describeBody(Buffer.from('é'.repeat(BODY_SHOWN_MAX + 10)));
    expect(shown.startsWith('é'.repeat(BODY_SHOWN_MAX))).toBe(true);
    expect(shown).toContain(`cut at ${BODY_SHOWN_MAX} of ${BODY_SHOWN_MAX + 10} characters`);
  });

  it('never splits a character made of two UTF-16 units', () => {
    const shown = describeBody(Buffer.from(`a${'😀'.repeat(BODY_SHOWN_MAX)}`));
    expect(shown.split('\n')[0]).not.toMatch(/[\uD800-\uDBFF]$/);
  });

  it('stays within the contract limit', () => {
    const detail = httpApprovalDetail({ method: 'GET', path: '/x', query: `?q=${'a'.repeat(DETAIL_MAX)}` });
    expect(detail.length).toBeLessThanOrEqual(DETAIL_MAX);
    expect(detail).toContain('cut at');
  });
});

describe('sqlApprovalDetail', () => {
  it('is the exact statement text when there are no parameters', () => {
    expect(sqlApprovalDetail("DELETE FROM t WHERE note = 'x'")).toBe("DELETE FROM t WHERE note = 'x'");
  });

  it('lists the parameter values below the statement, quoted, NULL apart from the empty string', () => {
    expect(sqlApprovalDetail('UPDATE t SET a = $1, b = $2, c = $3 WHERE id = $4', ["it's", null, '', '7'])).toBe(
      "UPDATE t SET a = $1, b = $2, c = $3 WHERE id = $4\n\n$1 = 'it''s'\n$2 = NULL\n$3 = ''\n$4 = '7'",
    );
  });

  it('stays within the contract limit with a huge statement and many parameters, and says what it cut', () => {
    const params = Array.from({ length: 100 }, () => 'v'.repeat(5000));
    const detail = sqlApprovalDetail(`SELECT ${'1,'.repeat(DETAIL_MAX)}1`, params);
    expect(detail.length).toBeLessThanOrEqual(DETAIL_MAX);
    expect(detail).toContain('statement cut at');
    expect(detail).toContain("$1 = 'vvv");
    expect(detail).toContain('cut at 4096 of 5000 characters');
    expect(detail).toMatch(/and \d+ more parameters$/);
  });
});
