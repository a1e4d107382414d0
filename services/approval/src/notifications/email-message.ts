import type { ApprovalNotice } from './notice';
import { shortWhat } from './slack-message';
import { cutNote, escapeHtml, oneLine, safeHttpUrl, showInvisible, truncate } from './text';

/** Longer statements are cut: the approval itself (its link) has the whole of it. */
const DETAIL_MAX = 20_000;
const SUBJECT_MAX = 200;

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

function isoTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * One line, so nothing from the notice can start a header of its own, whatever the mailer
 * does with line breaks.
 */
export function emailSubject(n: ApprovalNotice): string {
  return truncate(`Approval needed: ${oneLine(n.connection)} ${shortWhat(n.detail)}`, SUBJECT_MAX);
}

/**
 * The e-mail asking approvers to decide: the same facts and links as the Slack message, as
 * plain text and as HTML. In the HTML everything from the notice is escaped, and a link that
 * is not http(s) is shown as text rather than linked.
 */
export function emailMessage(n: ApprovalNotice): EmailContent {
  const shown = showInvisible(n.detail.trim() || '(empty)');
  const detail = truncate(shown, DETAIL_MAX);
  // The approval covers the whole operation: a cut one says so, and where the rest is.
  const cut =
    detail !== shown ? `${cutNote(n.detail.length)} Read the whole operation before deciding: ${n.url}` : undefined;
  const groups = n.approverGroups.length > 0 ? n.approverGroups.join(', ') : 'any approver';
  const approvals = `${n.required} ${n.required === 1 ? 'approval' : 'approvals'} from ${groups}`;
  const who = `${oneLine(n.principal.subject)} (${oneLine(n.principal.issuer)})`;
  const where = `${oneLine(n.connection)} (${n.protocol})`;
  const why = oneLine(n.reason);
  const rule = n.ruleId ? oneLine(n.ruleId) : undefined;
  const expires = `${isoTime(n.expiresAt)} (UTC)`;

  const text = [
    `An operation is waiting for approval.`,
    ``,
    `Who:     ${who}`,
    `Where:   ${where}`,
    `Why:     ${why}`,
    ...(rule ? [`Rule:    ${rule}`] : []),
    `Needs:   ${approvals}`,
    `Expires: ${expires}`,
    ``,
    `What:`,
    detail,
    ...(cut ? [``, cut] : []),
    ``,
    `Approve: ${n.approveUrl}`,
    `Deny:    ${n.denyUrl}`,
    `Details: ${n.url}`,
    ``,
    `The Approve and Deny links work once, and only until the approval expires.`,
    `Approval ${n.approvalId}`,
  ].join('\n');

  const link = (url: string, label: string, style = ''): string => {
    const href = safeHttpUrl(url);
    return href
      ? `<a href="${escapeHtml(href)}"${style ? ` style="${style}"` : ''}>${escapeHtml(label)}</a>`
      : escapeHtml(`${label}: ${url}`);
  };
  const row = (label: string, value: string): string =>
    `<tr><th align="left" valign="top" style="padding:2px 12px 2px 0">${escapeHtml(label)}</th>` +
    `<td style="padding:2px 0">${escapeHtml(value)}</td></tr>`;
  const button =
    'display:inline-block;padding:8px 16px;margin-right:8px;color:#fff;text-decoration:none;border-radius:4px';

  const html = [
    `<!doctype html>`,
    `<html><body style="font-family:sans-serif;font-size:14px">`,
    `<h2 style="margin:0 0 12px">Approval needed: ${escapeHtml(oneLine(n.connection))}</h2>`,
    `<table cellspacing="0" cellpadding="0">`,
    row('Who', who),
    row('Where', where),
    row('Why', why),
    ...(rule ? [row('Rule', rule)] : []),
    row('Needs', approvals),
    row('Expires', expires),
    `</table>`,
    `<p style="margin:12px 0 4px"><b>What</b></p>`,
    `<pre style="white-space:pre-wrap;background:#f4f4f4;padding:8px;border-radius:4px">${escapeHtml(detail)}</pre>`,
    ...(cut
      ? [
          `<p style="color:#b00020"><b>${escapeHtml(cutNote(n.detail.length))}</b> ` +
            `${link(n.url, 'Read the whole operation')} before deciding.</p>`,
        ]
      : []),
    `<p>${link(n.approveUrl, 'Approve', `${button};background:#2e7d32`)}` +
      `${link(n.denyUrl, 'Deny', `${button};background:#c62828`)}</p>`,
    `<p>${link(n.url, 'Open the approval')}</p>`,
    `<p style="color:#666;font-size:12px">The Approve and Deny links work once, and only until the approval ` +
      `expires. Approval ${escapeHtml(n.approvalId)}</p>`,
    `</body></html>`,
  ].join('\n');

  return { subject: emailSubject(n), text, html };
}
