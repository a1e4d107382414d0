import type { Clock } from '../clock';
import type { ApprovalNotice } from './notice';
import { httpOutcome, networkOutcome, type SendOutcome } from './outcome';
import type { NotificationSender } from './sender';
import { slackMessage } from './slack-message';
import { redact } from './text';

/** Enough of an error answer to say why (Slack answers `no_service`, `invalid_payload`, ...). */
const BODY_PREVIEW_BYTES = 1024;

async function bodyPreview(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_PREVIEW_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, BODY_PREVIEW_BYTES).toString('utf8');
}

/**
 * Posts to a Slack incoming webhook. The webhook URL is a credential (whoever has it can post
 * to the channel): it appears in no reason, log line or error this class produces.
 */
export class SlackSender implements NotificationSender {
  readonly channel = 'slack' as const;
  private readonly secrets: string[];

  constructor(
    private readonly webhookUrl: string,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    const u = new URL(webhookUrl);
    this.secrets = [webhookUrl, u.pathname + u.search, u.pathname];
  }

  async send(notice: ApprovalNotice): Promise<SendOutcome> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let outcome: SendOutcome;
    try {
      const res = await fetch(this.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(slackMessage(notice)),
        // A webhook that redirects is misconfigured; following it would send the message elsewhere.
        redirect: 'manual',
        signal,
      });
      const body = await bodyPreview(res);
      outcome = httpOutcome(res.status, res.headers.get('retry-after'), body, this.clock());
    } catch (err) {
      outcome = networkOutcome(err, this.timeoutMs);
    }
    return outcome.kind === 'delivered' ? outcome : { ...outcome, reason: redact(outcome.reason, this.secrets) };
  }

  async close(): Promise<void> {
    // Nothing held between calls: fetch's connection pool closes idle sockets by itself.
  }
}
