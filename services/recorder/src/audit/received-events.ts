import { acceptAuditMessage, type AuditEvent } from '@airlock/contracts';
import { SessionTally } from '../summaries/session-tally';
import { EventWriter, storedForm, type WrittenEvent } from './copy-rows';

/**
 * An event checked against the audit contract, held until its window is stored as what the
 * store needs of it: its id and offset, and the bytes its writer wrote when it was received (the
 * input of its link, its binary COPY row but the tail its link fills in). A window of tens of
 * thousands of events then holds a few objects per event rather than the decoded event's dozen,
 * which the collector copies each time it runs while the window waits.
 */
export class ReceivedAuditEvent implements WrittenEvent {
  constructor(
    readonly id: string,
    readonly offset: string,
    /** The message's bytes and key as they arrived: for a dead letter, or to read the event again. */
    readonly value: Buffer,
    readonly key: Buffer | null,
    /** The batch it was received in: what it adds to its session's summary is in the batch's tally. */
    readonly batch: ReceivedBatch,
    readonly linkBytes: Buffer,
    readonly linkAt: number,
    readonly linkEnd: number,
    readonly rowBytes: Buffer,
    readonly rowAt: number,
    readonly rowEnd: number,
  ) {}

  /** The event again, from the bytes that passed the contract: for what is rarely needed. */
  event(): AuditEvent {
    return JSON.parse(this.value.toString('utf8')) as AuditEvent;
  }

  /** Its canonical form (RFC 8785): what its link hashes. */
  get canonical(): string {
    return this.linkBytes.toString('utf8', this.linkAt + 32, this.linkEnd);
  }
}

/**
 * What each of the writer's buffers of a batch starts with: about what its events take (an
 * event's row and the input of its link are each about as long as its message, and a row's other
 * columns add a few hundred bytes), within 4 KB to 256 KB.
 */
function writerSize(messages: number, messageBytes: number): number {
  return Math.min(256 * 1024, Math.max(4 * 1024, messageBytes + 512 * messages));
}

/**
 * The events of one fetched batch of one partition, as they are received: each is checked
 * (acceptAuditMessage), written (EventWriter) and added to the batch's sessions' tally. A batch
 * whose events are all stored adds its tally as it is; the tally of any other selection of
 * events is made again from their messages (see tallyOf).
 */
export class ReceivedBatch {
  readonly tally = new SessionTally();
  /** Events received into it. */
  size = 0;
  private readonly writer: EventWriter;

  /** For `messages` messages of `messageBytes` bytes in all. */
  constructor(messages = 1, messageBytes = 1024) {
    this.writer = new EventWriter(writerSize(messages, messageBytes));
  }

  /**
   * Checks one message and keeps it. Throws a ContractViolation for a message the contract
   * refuses, and an error with PostgreSQL's SQLSTATE (class 22) for one with a value the store
   * would refuse (a time or an id, see EventWriter.write).
   */
  receive(value: Buffer | null, key: Buffer | null, offset: string): ReceivedAuditEvent {
    const { event, raw, canonical } = acceptAuditMessage(value);
    // acceptAuditMessage refuses an empty message.
    const message = value as Buffer;
    const w = this.writer;
    w.write(event, storedForm(message, raw), canonical);
    this.tally.add(event);
    this.size++;
    return new ReceivedAuditEvent(
      event.id,
      offset,
      message,
      key,
      this,
      w.lastLinkBytes,
      w.lastLinkAt,
      w.lastLinkEnd,
      w.lastRowBytes,
      w.lastRowAt,
      w.lastRowEnd,
    );
  }
}

/**
 * What the events add to their sessions' summaries, in order. When they are every event of the
 * batches they were received in, those batches' tallies; otherwise (a redelivery skipped some, or a
 * duplicate) a tally made again from their messages.
 */
export function tallyOf(events: readonly ReceivedAuditEvent[]): SessionTally {
  const batches: ReceivedBatch[] = [];
  let whole = 0;
  for (const e of events) {
    if (batches[batches.length - 1] === e.batch) continue;
    if (batches.includes(e.batch)) return tallyAgain(events);
    batches.push(e.batch);
    whole += e.batch.size;
  }
  if (whole !== events.length) return tallyAgain(events);
  return SessionTally.merged(batches.map((b) => b.tally));
}

function tallyAgain(events: readonly ReceivedAuditEvent[]): SessionTally {
  const tally = new SessionTally();
  for (const e of events) tally.add(e.event());
  return tally;
}
