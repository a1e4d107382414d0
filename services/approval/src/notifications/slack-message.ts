import type { ApprovalNotice } from './notice';
import { cutNote, escapeMrkdwn, fitEscaped, oneLine, safeHttpUrl, showInvisible, truncate } from './text';

/* Block Kit limits (api.slack.com/reference/block-kit): past them Slack refuses the whole message. */
const HEADER_MAX = 150;
const SECTION_TEXT_MAX = 3000;
const FIELD_MAX = 2000;
const FALLBACK_MAX = 300;

export interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
}

export interface SlackButton {
  type: 'button';
  text: SlackText;
  url: string;
  action_id: string;
  style?: 'primary' | 'danger';
}

export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'actions'; block_id: string; elements: SlackButton[] };

/** The body of an incoming-webhook call. */
export interface SlackMessage {
  /** Shown where blocks are not: push notifications, screen readers, old clients. */
  text: string;
  blocks: SlackBlock[];
}

const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text });
const plain = (text: string): SlackText => ({ type: 'plain_text', text });

/** A labelled field: the value escaped and cut to fit. */
function field(label: string, value: string): SlackText {
  const head = `*${label}*\n`;
  return mrkdwn(head + fitEscaped(value, FIELD_MAX - head.length, escapeMrkdwn));
}

/**
 * A triple backtick in the statement would end the code block early and turn the rest into
 * formatted text; a zero-width space between the backticks keeps it inside.
 */
function codeBlock(label: string, code: string): { text: SlackText; cut: boolean } {
  const head = `*${label}*\n\`\`\``;
  const tail = '```';
  // Invisible characters are shown escaped first: the zero-width spaces added here are Slack's, not the agent's.
  const body = showInvisible(code.trim() || '(empty)').replace(/```/g, '`\u200b`\u200b`');
  const max = SECTION_TEXT_MAX - head.length - tail.length;
  const fitted = fitEscaped(body, max, escapeMrkdwn);
  return { text: mrkdwn(head + fitted + tail), cut: fitted !== Array.from(body, escapeMrkdwn).join('') };
}

/** Slack shows this in each reader's own time zone; the fallback where it cannot. */
function slackDate(at: Date): string {
  const iso = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

/** A link in mrkdwn: `|` and `>` would end the URL part early. */
function mrkdwnLink(url: string, label: string): string {
  return `<${escapeMrkdwn(url).replace(/\|/g, '%7C')}|${escapeMrkdwn(label)}>`;
}

/** A one-line summary of the operation: the first words of the statement or request line. */
export function shortWhat(detail: string, max = 60): string {
  return truncate(oneLine(detail), max) || '(empty)';
}

/**
 * The Slack message asking approvers to decide: who wants to do what where and why, how many
 * approvals it needs and until when, with Approve and Deny buttons (the notice's signed links)
 * and a link to the approval. Everything from the notice is escaped; the statement goes in a
 * code block, cut to Slack's section limit.
 */
export function slackMessage(n: ApprovalNotice): SlackMessage {
  const groups = n.approverGroups.length > 0 ? n.approverGroups.join(', ') : 'any approver';
  const approvals = `${n.required} ${n.required === 1 ? 'approval' : 'approvals'} from ${groups}`;
  const why = n.ruleId ? `${oneLine(n.reason)}\nRule: ${oneLine(n.ruleId)}` : oneLine(n.reason);

  const buttons: SlackButton[] = [];
  const approveUrl = safeHttpUrl(n.approveUrl);
  const denyUrl = safeHttpUrl(n.denyUrl);
  if (approveUrl) {
    buttons.push({ type: 'button', text: plain('Approve'), style: 'primary', url: approveUrl, action_id: 'approve' });
  }
  if (denyUrl) buttons.push({ type: 'button', text: plain('Deny'), style: 'danger', url: denyUrl, action_id: 'deny' });

  const viewUrl = safeHttpUrl(n.url);
  const what = codeBlock('What', n.detail);
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(truncate(oneLine(`Approval needed: ${n.connection}`), HEADER_MAX)) },
    {
      type: 'section',
      fields: [
        field('Who', `${oneLine(n.principal.subject)}\n${oneLine(n.principal.issuer)}`),
        field('Where', `${oneLine(n.connection)} (${n.protocol})`),
        field('Approvals needed', approvals),
        mrkdwn(`*Expires*\n${slackDate(n.expiresAt)}`),
      ],
    },
    { type: 'section', text: what.text },
  ];
  if (what.cut) {
    // The approval covers the whole operation: never let a cut one pass for all of it.
    const note = escapeMrkdwn(cutNote(n.detail.length));
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          viewUrl
            ? `:warning: ${note} ${mrkdwnLink(viewUrl, 'Read the whole operation')} before deciding.`
            : `:warning: ${note} Read the whole operation in the approval API (approval ${escapeMrkdwn(n.approvalId)}) before deciding.`,
        ),
      ],
    });
  }
  blocks.push({ type: 'section', text: field('Why', why) });
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: 'approval-decision', elements: buttons });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        viewUrl
          ? `${mrkdwnLink(viewUrl, 'Open the approval')} · ${escapeMrkdwn(n.approvalId)}`
          : escapeMrkdwn(`Approval ${n.approvalId}`),
      ),
    ],
  });

  const fallback = `Approval needed on ${oneLine(n.connection)}: ${oneLine(n.principal.subject)} wants to run ${shortWhat(n.detail, 120)}`;
  return { text: fitEscaped(fallback, FALLBACK_MAX, escapeMrkdwn), blocks };
}
