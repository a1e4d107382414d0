import { emailMessage, emailSubject } from './email-message';
import type { ApprovalNotice } from './notice';

function notice(over: Partial<ApprovalNotice> = {}): ApprovalNotice {
  const id = '0192f0c0-0000-7000-8000-000000000001';
  return {
    approvalId: id,
    state: 'pending',
    sessionId: '0192f0c0-0000-7000-8000-0000000000a1',
    requestId: '0192f0c0-0000-7000-8000-0000000000b1',
    principal: { issuer: 'https://idp.example.com', subject: 'copilot-agent', groups: ['agents'] },
    connection: 'billing-api',
    protocol: 'http',
    detail: 'DELETE /v1/customers/42',
    reason: 'deletes need a human',
    required: 1,
    approverGroups: [],
    expiresAt: new Date('2025-12-05T13:00:00Z'),
    url: `https://airlock.example.com/approvals/${id}`,
    approveUrl: `https://airlock.example.com/approvals/links/approve-token?a=1&b=2`,
    denyUrl: `https://airlock.example.com/approvals/links/deny-token`,
    ...over,
  };
}

describe('the approval e-mail', () => {
  it('has a subject naming the connection and the operation', () => {
    expect(emailSubject(notice())).toBe('Approval needed: billing-api DELETE /v1/customers/42');
  });

  it('keeps CR and LF (and other line breaks) out of the subject', () => {
    const s = emailSubject(
      notice({ detail: 'GET /x\r\nBcc: victim@example.com\n\u2028X-Evil: 1', connection: 'a\rb' }),
    );
    expect(s).not.toMatch(/[\r\n\u2028\u2029\u0085]/);
    expect(s).toBe('Approval needed: a b GET /x Bcc: victim@example.com X-Evil: 1');
    expect(emailSubject(notice({ detail: 'x'.repeat(1000) })).length).toBeLessThanOrEqual(200);
  });

  it('carries the same facts and links in text and HTML', () => {
    const n = notice({ ruleId: 'deletes-reviewed' });
    const m = emailMessage(n);
    for (const body of [m.text, m.html]) {
      expect(body).toContain('copilot-agent');
      expect(body).toContain('https://idp.example.com');
      expect(body).toContain('billing-api (http)');
      expect(body).toContain('DELETE /v1/customers/42');
      expect(body).toContain('deletes need a human');
      expect(body).toContain('deletes-reviewed');
      expect(body).toContain('1 approval from any approver');
      expect(body).toContain('2025-12-05T13:00:00Z');
      expect(body).toContain(n.approvalId);
    }
    expect(m.text).toContain(`Approve: ${n.approveUrl}`);
    expect(m.text).toContain(`Deny:    ${n.denyUrl}`);
    expect(m.text).toContain(`Details: ${n.url}`);
    expect(m.html).toContain(`href="https://airlock.example.com/approvals/links/approve-token?a=1&amp;b=2"`);
    expect(m.html).toContain(`href="${n.denyUrl}"`);
    expect(m.html).toContain(`href="${n.url}"`);
  });

  it('escapes everything from the notice in the HTML', () => {
    const m = emailMessage(
      notice({
        detail: `SELECT '<script>alert(1)</script>' "x" & y`,
        reason: '<img src=x onerror=alert(1)>',
        principal: { issuer: 'https://idp', subject: `"><b>bold</b>`, groups: [] },
        approverGroups: ['<i>ops</i>'],
        connection: 'c<&>',
      }),
    );
    expect(m.html).not.toMatch(/<script|<img|<b>bold|<i>ops/);
    expect(m.html).toContain('SELECT &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39; &quot;x&quot; &amp; y');
    expect(m.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(m.html).toContain('&quot;&gt;&lt;b&gt;bold&lt;/b&gt;');
    expect(m.text).toContain(`SELECT '<script>alert(1)</script>' "x" & y`);
  });

  it('does not link a URL that is not http(s)', () => {
    const m = emailMessage(notice({ approveUrl: 'javascript:alert(document.cookie)' }));
    expect(m.html).not.toContain('href="javascript:');
    expect(m.html).toContain('Approve: javascript:alert(document.cookie)');
  });
});

describe('what approvers see by e-mail', () => {
  it('shows bidirectional overrides and control characters escaped in the text, the HTML and the subject', () => {
    const m = emailMessage(notice({ detail: 'DELETE /v1/users/1\u202e/2 \u0000\u009b', reason: 'r\u2066' }));
    for (const part of [m.subject, m.text, m.html]) {
      expect(part).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u0000\u009b]/);
    }
    expect(m.text).toContain('DELETE /v1/users/1\\u202e/2 \\u0000\\u009b');
    expect(m.html).toContain('DELETE /v1/users/1\\u202e/2 \\u0000\\u009b');
    expect(m.subject).toContain('\\u202e');
    expect(m.text).toContain('r\\u2066');
  });

  it('says a long operation is cut and where the whole of it is', () => {
    const detail = `POST /v1/transfer ${'a'.repeat(30_000)} END`;
    const n = notice({ detail });
    const m = emailMessage(n);
    expect(m.text).not.toContain(' END');
    expect(m.text).toContain(`of ${detail.length} characters`);
    expect(m.text).toContain(n.url);
    expect(m.html).toContain(`of ${detail.length} characters`);
  });
});
