import type { Producer } from 'kafkajs';
import {
  AUDIT_SCHEMA_VERSION,
  AuditEventSchema,
  Topics,
  isAuditEvent,
  parseContract,
  storableJson,
  uuidv7,
  type AuditEvent,
  type AuditEventDraft,
} from '@airlock/contracts';
import { MessagingError } from './errors';

interface Queued {
  events: AuditEvent[];
  /** performance.now() when it was queued: its acknowledgement deadline runs from there. */
  since: number;
  resolve(): void;
  reject(err: MessagingError): void;
}

export interface AuditPublisherOptions {
  /** Broker acknowledgement deadline for one batch. */
  timeoutMs: number;
  maxBatch?: number;
  /**
   * How long events published with `urgent: false` may wait for company, so that a busy
   * service sends one produce request for many operations. Urgent events (a caller waiting to
   * fail closed) go out at once and take the waiting ones with them.
   */
  lingerMs?: number;
  /**
   * Produce requests in flight at once (default 1). Events published meanwhile wait and go
   * together in the next request as soon as one is acknowledged (group commit): under load a
   * request carries what arrived during the one before, so the number of requests follows the
   * broker's round trip, not the rate.
   */
  maxInFlight?: number;
  clock?: () => number;
}

/**
 * Publishes audit events to `airlock.audit`, keyed by session id so a session's events stay in
 * order on one partition. Events from concurrent callers are gathered into one produce request
 * (kafkajs has no linger of its own): those of one event-loop turn, and those that arrive while
 * a request is in flight (see maxInFlight). `emit` resolves only once the broker has
 * acknowledged the request holding its events: callers that must fail closed await it, and
 * within `timeoutMs` of their call they have an answer, however long they waited for a turn.
 */
export class AuditPublisher {
  private queue: Queued[] = [];
  private queued = 0;
  private scheduled = false;
  private lingering: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly clock: () => number;

  constructor(
    private readonly producer: Producer,
    private readonly options: AuditPublisherOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Completes the envelope of each draft and validates it against the public schema. Text a
   * client could have chosen never makes an event unstorable: U+0000 and lone surrogates become
   * U+FFFD (same length, so the schema's limits still hold) before the check.
   */
  build(draft: AuditEventDraft): AuditEvent {
    const now = this.clock();
    const event: unknown = {
      ...storableJson(draft),
      id: uuidv7(now),
      schemaVersion: AUDIT_SCHEMA_VERSION,
      time: new Date(now).toISOString(),
    };
    // The compiled check of the published schema; zod only to explain an event that fails it.
    return isAuditEvent(event) ? event : parseContract(Topics.Audit, AuditEventSchema, event);
  }

  emit(...drafts: AuditEventDraft[]): Promise<AuditEvent[]> {
    return this.emitWith({ urgent: true }, drafts);
  }

  /** Like emit, but the events may wait up to `lingerMs` to share a produce request. */
  emitLingering(...drafts: AuditEventDraft[]): Promise<AuditEvent[]> {
    return this.emitWith({ urgent: false }, drafts);
  }

  private emitWith(opts: { urgent: boolean }, drafts: AuditEventDraft[]): Promise<AuditEvent[]> {
    let events: AuditEvent[];
    try {
      events = drafts.map((d) => this.build(d));
    } catch (err) {
      return Promise.reject(new MessagingError('contract', 'audit event does not match its schema', { cause: err }));
    }
    return this.publish(events, opts).then(() => events);
  }

  publish(events: AuditEvent[], opts: { urgent: boolean } = { urgent: true }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events, since: performance.now(), resolve, reject });
      this.queued += events.length;
      const linger = this.options.lingerMs ?? 0;
      if (opts.urgent || linger === 0 || this.queued >= this.maxBatch) {
        this.schedule();
      } else if (!this.lingering && !this.scheduled) {
        this.lingering = setTimeout(() => this.schedule(), linger);
      }
    });
  }

  private schedule(): void {
    if (this.lingering) {
      clearTimeout(this.lingering);
      this.lingering = null;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Sends what is queued, as far as requests may be in flight; the rest waits for an acknowledgement. */
  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch: Queued[] = [];
      let count = 0;
      while (this.queue.length > 0 && count < this.maxBatch) {
        const q = this.queue.shift()!;
        batch.push(q);
        count += q.events.length;
      }
      this.queued -= count;
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.flush();
      });
    }
  }

  private async send(queued: Queued[]): Promise<void> {
    // Whoever waited past timeoutMs for a turn gets its answer now; the oldest of the others
    // bounds the request, so nobody waits past timeoutMs for an answer.
    const now = performance.now();
    const left = (q: Queued): number => this.options.timeoutMs - (now - q.since);
    const batch = queued.filter((q) => left(q) >= 1);
    if (batch.length < queued.length) {
      const err = new MessagingError('broker', 'audit events could not be published', {
        cause: new Error(`no broker acknowledgement within ${this.options.timeoutMs} ms`),
      });
      for (const q of queued) if (left(q) < 1) q.reject(err);
    }
    if (batch.length === 0) return;
    const remaining = left(batch[0]);
    const timeout = Math.floor(remaining);
    const messages = batch.flatMap((q) =>
      q.events.map((e) => ({
        key: e.sessionId,
        value: JSON.stringify(e),
        headers: { 'airlock-event-type': e.type },
      })),
    );
    try {
      await withDeadline(this.producer.send({ topic: Topics.Audit, acks: -1, timeout, messages }), timeout);
      for (const q of batch) q.resolve();
    } catch (cause) {
      const err = new MessagingError('broker', 'audit events could not be published', { cause });
      for (const q of batch) q.reject(err);
    }
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no broker acknowledgement within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
