import nodemailer, { type Transporter } from 'nodemailer';
import type { SMTPSentMessageInfo } from 'nodemailer';
import { emailMessage } from './email-message';
import type { ApprovalNotice } from './notice';
import { smtpOutcome, type SendOutcome } from './outcome';
import type { NotificationSender } from './sender';
import { redact } from './text';

export interface EmailSettings {
  smtpUrl: string;
  from: string;
  to: string[];
  timeoutMs: number;
}

/**
 * Sends approval e-mails over SMTP, one connection per message (no pool: notifications are
 * rare, and a pooled connection that the server dropped would fail the next message). The
 * whole conversation has the per-attempt deadline, each wait within it too.
 */
export class EmailSender implements NotificationSender {
  readonly channel = 'email' as const;
  private readonly transport: Transporter<SMTPSentMessageInfo>;
  private readonly secrets: string[];

  constructor(private readonly settings: EmailSettings) {
    const t = settings.timeoutMs;
    this.transport = nodemailer.createTransport({
      url: settings.smtpUrl,
      pool: false,
      connectionTimeout: t,
      greetingTimeout: t,
      socketTimeout: t,
      dnsTimeout: t,
      logger: false,
      debug: false,
    });
    const u = new URL(settings.smtpUrl);
    this.secrets = [settings.smtpUrl, u.password, decodeURIComponent(u.password)];
  }

  async send(notice: ApprovalNotice): Promise<SendOutcome> {
    const m = emailMessage(notice);
    let outcome: SendOutcome;
    try {
      const info = await this.transport.sendMail({
        from: this.settings.from,
        to: this.settings.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        disableFileAccess: true,
        disableUrlAccess: true,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      outcome =
        info.accepted.length > 0
          ? { kind: 'delivered' }
          : { kind: 'permanent', reason: 'the SMTP server accepted none of the recipients' };
    } catch (err) {
      outcome = smtpOutcome(err, this.settings.timeoutMs);
    }
    return outcome.kind === 'delivered' ? outcome : { ...outcome, reason: redact(outcome.reason, this.secrets) };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
