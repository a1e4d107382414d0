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
import {
  TRACEPARENT,
  activeTraceIds,
  counter,
  gauge,
  histogram,
  traceparentOf,
  tracingEnabled,
} from '@airlock/observability';
import { MessagingError } from './errors';

const publishSeconds = histogram({
  name: 'airlock_audit_publish_duration_seconds',
  help: 'Produce requests of audit events, from sending to the broker acknowledgement.',
});
const published = counter({
  name: 'airlock_audit_events_published_total',
  help: 'Audit events the broker acknowledged.',
});
const refused = counter({
  name: 'airlock_audit_publish_refusals_total',
  help: 'Audit events not acknowledged in time or refused by the broker (their caller fails closed).',
});
const backlog = gauge({
  name: 'airlock_audit_backlog_events',
  help: 'Audit events queued in the publisher or in flight to the broker.',
});

interface Queued {
  events: AuditEvent[];
  /** performance.now() when it was queued: its acknowledgement deadline runs from there. */
  since: number;
  /** performance.now() by which it should be on its way (now for urgent events, after the linger for others). */
  due: number;
  resolve(): void;
  reject(err: MessagingError): void;
}

export interface AuditPublisherOptions {
  /** Broker acknowledgement deadline for one batch, counted from the call that published it. */
  timeoutMs: number;
  maxBatch?: number;
  /**
   * How long events published with `urgent: false` may wait for company, so that a busy
   * service sends one produce request for many operations. Urgent events (a caller waiting to
   * fail closed) go out as soon as they may and take the waiting ones with them.
   */
  lingerMs?: number;
  /**
   * Produce requests in flight at once (default 1). Events published meanwhile wait and go
   * together in the next request as soon as one is acknowledged (group commit): under load a
   * request carries what arrived during the one before, so the number of requests follows the
   * broker's round trip, not the rate.
   */
  maxInFlight?: number;
  /**
   * Least time between the starts of two produce requests (default 0). The broker's cost is per
   * request, nearly whatever it carries, so under load this bounds the requests a second and
   * each carries what arrived in the interval. An event published when the last request started
   * longer ago than this goes at once: at low rates nothing waits for it.
   */
  minIntervalMs?: number;
  clock?: () => number;
}

/**
 * Publishes audit events to `airlock.audit`, keyed by session id so a session's events stay in
 * order on one partition. Events from concurrent callers are gathered into one produce request
 * (kafkajs has no linger of its own): those of one event-loop turn, those that arrive while a
 * request is in flight (see maxInFlight) or within `minIntervalMs` of the last one, and lingering
 * events until they are due. `emit` resolves only once the broker has acknowledged the request
 * holding its events: callers that must fail closed await it, and within `timeoutMs` of their
 * call they have an answer, however long they waited for a turn.
 */
export class AuditPublisher {
  private queue: Queued[] = [];
  private queued = 0;
  /** The earliest `due` of the queue (Infinity when it is empty). */
  private nextDue = Infinity;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  /** When the timer fires (performance.now()). */
  private timerAt = Infinity;
  private lastSent = -Infinity;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly minIntervalMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly producer: Producer,
    private readonly options: AuditPublisherOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.minIntervalMs = Math.max(0, options.minIntervalMs ?? 0);
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Completes the envelope of each draft and validates it against the public schema. Text a
   * client could have chosen never makes an event unstorable: U+0000 and lone surrogates become
   * U+FFFD (same length, so the schema's limits still hold) before the check.
   */
  build(draft: AuditEventDraft): AuditEvent {
    const now = this.clock();
    // An event made while a span is active names it, unless its producer named one itself.
    const ids = tracingEnabled() && draft.traceId === undefined ? activeTraceIds() : undefined;
    const event: unknown = {
      ...storableJson(draft),
      ...ids,
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
      const now = performance.now();
      const due = opts.urgent ? now : now + (this.options.lingerMs ?? 0);
      this.queue.push({ events, since: now, due, resolve, reject });
      this.queued += events.length;
      backlog.inc(events.length);
      if (due < this.nextDue) this.nextDue = due;
      this.arm();
    });
  }

  /**
   * Decides when the queue goes next: at once (in this turn's check, so a turn's events share a
   * request) when a full batch waits or when something is due and the interval since the last
   * request has passed; else at the earlier of the two by a timer. Nothing while no request may
   * start: the acknowledgement of one arms it again.
   */
  private arm(): void {
    if (this.queue.length === 0 || this.inFlight >= this.maxInFlight || this.scheduled) return;
    const now = performance.now();
    const at = this.queued >= this.maxBatch ? now : Math.max(this.nextDue, this.lastSent + this.minIntervalMs);
    if (at <= now) {
      this.clearTimer();
      this.scheduled = true;
      setImmediate(() => this.flush());
    } else if (at < this.timerAt) {
      this.clearTimer();
      this.timerAt = at;
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.timerAt = Infinity;
          this.arm();
        },
        Math.max(1, Math.ceil(at - now)),
      );
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** Sends what is queued, as far as requests may be in flight; the rest waits for an acknowledgement. */
  private flush(): void {
    this.scheduled = false;
    // A backlog of full batches may use every request allowed in flight at once.
    for (let first = true; this.queue.length > 0 && this.inFlight < this.maxInFlight; first = false) {
      if (!first && this.queued < this.maxBatch) break;
      const batch: Queued[] = [];
      let count = 0;
      while (this.queue.length > 0 && count < this.maxBatch) {
        const q = this.queue.shift()!;
        batch.push(q);
        count += q.events.length;
      }
      this.queued -= count;
      this.nextDue = this.queue.reduce((min, q) => Math.min(min, q.due), Infinity);
      this.lastSent = performance.now();
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.arm();
      });
    }
    this.arm();
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
      for (const q of queued) {
        if (left(q) >= 1) continue;
        refused.inc(q.events.length);
        backlog.dec(q.events.length);
        q.reject(err);
      }
    }
    if (batch.length === 0) return;
    const remaining = left(batch[0]);
    const timeout = Math.floor(remaining);
    let count = 0;
    const messages = batch.flatMap((q) =>
      q.events.map((e) => {
        count++;
        // The trace an event belongs to travels in its headers too, for consumers that trace.
        const headers: Record<string, string> =
          e.traceId !== undefined && e.spanId !== undefined
            ? { 'airlock-event-type': e.type, [TRACEPARENT]: traceparentOf(e.traceId, e.spanId) }
            : { 'airlock-event-type': e.type };
        return { key: e.sessionId, value: JSON.stringify(e), headers };
      }),
    );
    const started = performance.now();
    try {
      await withDeadline(this.producer.send({ topic: Topics.Audit, acks: -1, timeout, messages }), timeout);
      publishSeconds.observe((performance.now() - started) / 1000);
      published.inc(count);
      backlog.dec(count);
      for (const q of batch) q.resolve();
    } catch (cause) {
      refused.inc(count);
      backlog.dec(count);
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
