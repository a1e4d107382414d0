import type { Channel } from './channels';
import type { ApprovalNotice } from './notice';
import type { SendOutcome } from './outcome';

/**
 * One channel's way to notify. `send` never throws: whatever happens becomes an outcome, with
 * a reason that is safe to log, store and audit.
 */
export interface NotificationSender {
  readonly channel: Channel;
  send(notice: ApprovalNotice): Promise<SendOutcome>;
  close(): Promise<void>;
}
