import type { ApprovalNotice } from './notice';
import { slackMessage, type SlackBlock, type SlackButton, type SlackText } from './slack-message';

function notice(over: Partial<ApprovalNotice> = {}): ApprovalNotice {
  const id = '0192f0c0-0000-7000-8000-000000000001';
  return {
    approvalId: id,
    state: 'pending',
    sessionId: '0192f0c0-0000-7000-8000-0000000000a1',
    requestId: '0192f0c0-0000-7000-8000-0000000000b1',
    principal: { issuer: 'https://idp.example.com', subject: 'copilot-agent', groups: ['agents'] },
    connection: 'orders-db',
    protocol: 'postgres',
    detail: "DELETE FROM orders WHERE created_at < now() - interval '1 year'",
    reason: 'deletes need a human',
    ruleId: 'deletes-reviewed',
    required: 2,
    approverGroups: ['dba', 'security'],
    expiresAt: new Date('2025-12-05T13:00:00Z'),
    url: `https://airlock.example.com/approvals/${id}`,
    approveUrl: `https://airlock.example.com/approvals/links/approve-token-123?x=1&y=2`,
    denyUrl: `https://airlock.example.com/approvals/links/deny-token-456`,
    ...over,
  };
}

const texts = (blocks: SlackBlock[]): SlackText[] =>
  blocks.flatMap((b) => {
    if (b.type === 'header') return [b.text];
    if (b.type === 'section') return [...(b.text ? [b.text] : []), ...(b.fields ?? [])];
    if (b.type === 'context') return b.elements;
    return b.elements.map((e) => e.text);
  });

const buttons = (blocks: SlackBlock[]): SlackButton[] =>
  blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));

describe('the Slack approval message', () => {
  it('says who, what, where, why, how many and until when', () => {
    const m = slackMessage(notice());
    const all = texts(m.blocks)
      .map((t) => t.text)
      .join('\n');
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Approval needed: orders-db' } });
    expect(all).toContain('copilot-agent');
    expect(all).toContain('https://idp.example.com');
    expect(all).toContain('orders-db (postgres)');
    expect(all).toContain("```DELETE FROM orders WHERE created_at &lt; now() - interval '1 year'```");
    expect(all).toContain('deletes need a human');
    expect(all).toContain('Rule: deletes-reviewed');
    expect(all).toContain('2 approvals from dba, security');
    expect(all).toContain('<!date^1764939600^{date_short_pretty} {time}|2025-12-05T13:00:00Z>');
    expect(m.text).toContain('copilot-agent wants to run DELETE FROM orders');
  });

  it('has Approve and Deny buttons with the signed links, and a link to the approval', () => {
    const n = notice();
    const m = slackMessage(n);
    expect(buttons(m.blocks)).toEqual([
      expect.objectContaining({ text: { type: 'plain_text', text: 'Approve' }, url: n.approveUrl, style: 'primary' }),
      expect.objectContaining({ text: { type: 'plain_text', text: 'Deny' }, url: n.denyUrl, style: 'danger' }),
    ]);
    const context = m.blocks.find((b) => b.type === 'context');
    expect(context && texts([context])[0].text).toContain(`<${n.url}|Open the approval>`);
    expect(m.text).not.toContain('token');
  });

  it('escapes what the agent controls: no links, mentions or early end of the code block', () => {
    const m = slackMessage(
      notice({
        detail: "SELECT '<!channel> <https://evil.example|click> & ```' FROM x",
        reason: 'because <@U123>',
        principal: { issuer: 'https://idp', subject: '<!here>', groups: [] },
      }),
    );
    const all = [m.text, ...texts(m.blocks).map((t) => t.text)].join('\n');
    expect(all).not.toMatch(/<!channel>|<!here>|<@U123>|<https:\/\/evil/);
    expect(all).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; `\u200b`\u200b`');
    const code = texts(m.blocks).find((t) => t.text.startsWith('*What*'))!.text;
    expect(code.match(/```/g)).toHaveLength(2);
  });

  it('cuts a long statement to stay under the 3000-character section limit', () => {
    const m = slackMessage(notice({ detail: `SELECT ${'<x>'.repeat(5000)} FROM t` }));
    for (const t of texts(m.blocks)) expect(t.text.length).toBeLessThanOrEqual(3000);
    const code = texts(m.blocks).find((t) => t.text.startsWith('*What*'))!.text;
    expect(code).toMatch(/&lt;x&gt;…```$/);
    expect(code.length).toBeGreaterThan(2900);
    expect(m.text.length).toBeLessThanOrEqual(300);
  });

  it('never cuts a surrogate pair in half', () => {
    const m = slackMessage(notice({ detail: '😀'.repeat(4000) }));
    const code = texts(m.blocks).find((t) => t.text.startsWith('*What*'))!.text;
    expect(code).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('keeps the header within 150 characters and on one line', () => {
    const m = slackMessage(notice({ connection: 'c'.repeat(200) }));
    const header = m.blocks[0].type === 'header' ? m.blocks[0].text.text : '';
    expect(header.length).toBeLessThanOrEqual(150);
  });

  it('leaves out a button whose link is not http(s)', () => {
    const m = slackMessage(notice({ approveUrl: 'javascript:alert(1)' }));
    expect(buttons(m.blocks).map((b) => b.action_id)).toEqual(['deny']);
  });
});

describe('what approvers see in Slack', () => {
  it('says a long operation is cut, how much is shown, and links to the whole of it', () => {
    const detail = `UPDATE accounts SET note = '${'x'.repeat(4000)}' WHERE id = 1; DROP TABLE accounts`;
    const n = notice({ detail });
    const m = slackMessage(n);
    const all = texts(m.blocks)
      .map((t) => t.text)
      .join('\n');
    expect(all).not.toContain('DROP TABLE');
    expect(all).toMatch(/cut/i);
    expect(all).toContain(`of ${detail.length} characters`);
    expect(all).toContain(`<${n.url}|`);
    for (const t of texts(m.blocks)) expect(t.text.length).toBeLessThanOrEqual(3000);
  });

  it('says nothing about cutting when the operation fits', () => {
    const all = texts(slackMessage(notice()).blocks)
      .map((t) => t.text)
      .join('\n');
    expect(all).not.toMatch(/cut/i);
  });

  it('shows bidirectional overrides and control characters escaped, wherever the agent wrote them', () => {
    const m = slackMessage(
      notice({
        detail: 'SELECT 1 -- \u202etxt.exe\u202c\u2066x\u2069\u200f\u0007\u0085\r\nFROM t\twhere',
        reason: 'why \u202e',
        principal: { issuer: 'https://idp', subject: 'agent\u202e', groups: [] },
        connection: 'db\u2067',
      }),
    );
    const all = [m.text, ...texts(m.blocks).map((t) => t.text)].join('\n');
    expect(all).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u0007\u0085\r]/);
    expect(all).toContain('\\u202etxt.exe\\u202c\\u2066x\\u2069\\u200f\\u0007\\u0085');
    expect(all).toContain('FROM t\twhere');
    expect(all).toContain('agent\\u202e');
    expect(all).toContain('why \\u202e');
  });
});
