import { randomUUID } from 'node:crypto';
import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import {
  ContractViolation,
  RequestReplyContracts,
  answererOf,
  parseContract,
  replyTopicOf,
  type ReplyOf,
  type RequestOf,
  type RequestTopic,
} from '@airlock/contracts';
import {
  SpanKind,
  counter,
  endSpan,
  histogram,
  injectTraceHeaders,
  startSpan,
  tracingEnabled,
  withSpan,
  type Span,
} from '@airlock/observability';
import { MessagingError } from './errors';
import { NestKafkaHeaders } from './headers';
import { checkSignature, type MessageSecurity } from './message-trust';

interface Pending {
  topic: RequestTopic;
  /** Of the operation the request is about, for the audit of a refused answer. */
  requestId?: string;
  sessionId?: string;
  resolve(value: unknown): void;
  reject(err: MessagingError): void;
  timer: NodeJS.Timeout;
  /** performance.now() when the request was made. */
  since: number;
  /** The request's span, when tracing is on. */
  span: Span | undefined;
}

const REQUEST_LABELS = ['topic', 'outcome'] as const;
/** Request/reply latency seen by the caller, by topic and outcome (ok, timeout, error). */
const requestSeconds = histogram({
  name: 'airlock_kafka_request_duration_seconds',
  help: 'Kafka request/reply calls from request to answer, by request topic and outcome (ok, timeout, error).',
  labelNames: REQUEST_LABELS,
});
const requestTimeouts = counter({
  name: 'airlock_kafka_request_timeouts_total',
  help: 'Kafka request/reply calls that got no answer within their deadline, by request topic.',
  labelNames: ['topic'],
});

type Outcome = 'ok' | 'timeout' | 'error';

/** A call that is over, remembered a while so that a forged answer to it is still refused and reported. */
type Settled = Pick<Pending, 'topic' | 'requestId' | 'sessionId'> & {
  /** performance.now() when the call ended. */
  at: number;
};

/** How long, and for how many calls at most, a call is remembered once it is over. */
const SETTLED_KEPT_MS = 60_000;
const SETTLED_KEPT_MAX = 10_000;

/** An answer as it came: a reply, an error reply (`kafka_nest-err`), or neither readable. */
type Answer = { kind: 'reply' | 'error'; body: unknown } | { kind: 'unreadable'; reason: string };

function readAnswer(value: Buffer | null, errorHeader: unknown): Answer {
  const error = errorHeader !== undefined && errorHeader !== null;
  const raw = error ? String(errorHeader) : value?.toString('utf8');
  if (raw === undefined) return { kind: 'unreadable', reason: 'empty message' };
  try {
    return { kind: error ? 'error' : 'reply', body: JSON.parse(raw) };
  } catch {
    // An error reply of a caller that does not verify answers may be plain text.
    return error ? { kind: 'error', body: raw } : { kind: 'unreadable', reason: 'not valid JSON' };
  }
}

function observe(p: Pending, outcome: Outcome, err?: unknown): void {
  requestSeconds.labels(p.topic, outcome).observe((performance.now() - p.since) / 1000);
  if (outcome === 'timeout') requestTimeouts.labels(p.topic).inc();
  if (p.span) endSpan(p.span, outcome === 'ok' ? undefined : err);
}

export interface RequestReplyClientOptions {
  /** Unique per process: every instance reads every reply partition, so rebalances never strand a reply. */
  groupId: string;
  topics: readonly RequestTopic[];
  /** How long connect() may take to join and position the reply consumer. */
  connectTimeoutMs?: number;
  /**
   * With a signer, every request is signed; with trusted keys, a reply is accepted only when the
   * service that answers the topic (its consumer in the catalogue) signed it for this very request.
   */
  security?: MessageSecurity;
}

/**
 * Request/reply over Kafka, speaking the header protocol of @nestjs/microservices' ServerKafka
 * (`kafka_correlationId`, `kafka_replyTopic`, `kafka_replyPartition`, `kafka_nest-err`), so the
 * answering side is a plain `@MessagePattern` handler.
 *
 * Unlike ClientKafka, each instance has its own consumer group and reads all partitions of the
 * reply topics: scaling the callers never rebalances anyone else, and no reply can land on a
 * partition that nobody is assigned. Replies are matched by correlation id; every call has a
 * deadline, and a late or unknown reply is dropped (a forged one is reported first).
 */
export class RequestReplyClient {
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private readonly pending = new Map<string, Pending>();
  /** Calls that are over, oldest first. */
  private readonly settled = new Map<string, Settled>();
  private readonly probes = new Map<string, () => void>();
  private connected = false;
  private readonly replyPartition: number;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: RequestReplyClientOptions,
  ) {
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 500,
    });
    // Any partition works since every partition is read; spreading instances spreads broker load.
    this.replyPartition = [...options.groupId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 12;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    const replyTopics = this.options.topics.map((t) => replyTopicOf(t));
    await this.consumer.subscribe({ topics: replyTopics, fromBeginning: false });
    await this.consumer.run({
      // Replies are never re-read: committing offsets would only put a broker round trip
      // between one fetch and the next (about 5 ms per reply here).
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachMessage: async ({ topic, message }) => {
        const correlationId = message.headers?.[NestKafkaHeaders.CorrelationId]?.toString();
        if (!correlationId) return;
        const probe = this.probes.get(correlationId);
        if (probe) return probe();
        this.settle(topic, correlationId, message.value, message.headers?.[NestKafkaHeaders.Error]);
      },
    });
    await this.awaitPositioned(replyTopics);
    this.connected = true;
  }

  /**
   * The consumer starts at the latest offset once it has joined; a reply written before that
   * would be missed. A probe written to every reply partition and read back proves the consumer
   * is positioned before the first real request goes out.
   */
  private async awaitPositioned(replyTopics: string[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    let metadata;
    try {
      metadata = await admin.fetchTopicMetadata({ topics: replyTopics });
    } finally {
      await admin.disconnect();
    }
    const seen: Promise<void>[] = [];
    const messagesByTopic: {
      topic: string;
      messages: { partition: number; value: string; headers: Record<string, string> }[];
    }[] = [];
    for (const { name: topic, partitions } of metadata.topics) {
      const messages = partitions.map(({ partitionId: partition }) => {
        const id = `probe-${randomUUID()}`;
        seen.push(new Promise<void>((resolve) => this.probes.set(id, resolve)));
        return { partition, value: '{}', headers: { [NestKafkaHeaders.CorrelationId]: id, 'airlock-probe': '1' } };
      });
      messagesByTopic.push({ topic, messages });
    }
    const deadline = Date.now() + (this.options.connectTimeoutMs ?? 30000);
    // Until the group has joined, a probe may be written before the consumer's start offset; resend until all are seen.
    let done = false;
    const all = Promise.all(seen).then(() => (done = true));
    while (!done) {
      if (Date.now() > deadline) {
        throw new MessagingError('timeout', `reply consumer ${this.options.groupId} was not positioned in time`);
      }
      await this.producer.sendBatch({ topicMessages: messagesByTopic, acks: -1 });
      await Promise.race([all, new Promise((r) => setTimeout(r, 250))]);
    }
    this.probes.clear();
  }

  async request<T extends RequestTopic>(
    topic: T,
    key: string,
    payload: RequestOf<T>,
    deadlineMs: number,
  ): Promise<ReplyOf<T>> {
    if (!this.connected) throw new MessagingError('closed', 'request/reply client is not connected');
    const correlationId = randomUUID();
    const parsed = parseContract(topic, RequestReplyContracts[topic].request, payload) as Record<string, unknown>;
    const signer = this.options.security?.signer;
    const body = signer ? signer.sign({ topic, correlationId }, parsed) : parsed;
    const headers: Record<string, string> = {
      [NestKafkaHeaders.CorrelationId]: correlationId,
      [NestKafkaHeaders.ReplyTopic]: replyTopicOf(topic),
      [NestKafkaHeaders.ReplyPartition]: String(this.replyPartition),
      [NestKafkaHeaders.Deadline]: String(Date.now() + deadlineMs),
    };
    // With tracing on, the request is a span of the caller's trace and the answering service's
    // span is its child (W3C traceparent header); off, nothing is made.
    let span: Span | undefined;
    if (tracingEnabled()) {
      span = startSpan(`${topic} request`, SpanKind.CLIENT);
      span.setAttribute('messaging.destination.name', topic);
      withSpan(span, () => injectTraceHeaders(headers));
    }
    const result = new Promise<ReplyOf<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.end(correlationId);
        const err = new MessagingError('timeout', `no answer on ${topic} within ${deadlineMs} ms`);
        if (p) observe(p, 'timeout', err);
        reject(err);
      }, deadlineMs);
      this.pending.set(correlationId, {
        topic,
        requestId: typeof parsed.requestId === 'string' ? parsed.requestId : undefined,
        sessionId: typeof parsed.sessionId === 'string' ? parsed.sessionId : undefined,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        since: performance.now(),
        span,
      });
    });
    // The answer or the deadline may settle the call while the request is still being produced,
    // before the caller holds the promise: marked as handled here, the rejection still reaches
    // the caller, and Node does not take it for an unhandled one (which ends the process).
    result.catch(() => undefined);
    try {
      await this.producer.send({
        topic,
        acks: -1,
        timeout: deadlineMs,
        messages: [
          {
            key,
            value: JSON.stringify(body),
            headers,
          },
        ],
      });
    } catch (cause) {
      this.fail(correlationId, new MessagingError('broker', `could not send to ${topic}`, { cause }));
    }
    return result;
  }

  /**
   * With trusted keys, an answer (a reply or an error reply) whose signature does not verify is
   * refused and reported, but it does not end the call: whoever can write to the reply topic
   * could otherwise fail every call by answering first. The call goes on waiting for the genuine
   * answer until its deadline. A forged answer that comes after the call is over is refused and
   * reported as well, as one to that call: losing the race must not leave a forger unseen.
   */
  private settle(replyTopic: string, correlationId: string, value: Buffer | null, errorHeader: unknown): void {
    const p = this.pending.get(correlationId);
    const call = p ?? this.remembered(correlationId);
    if (!call) return; // somebody else's: every instance reads every reply partition
    const answer = readAnswer(value, errorHeader);
    const trust = this.options.security?.trust;
    if (trust) {
      const rejected =
        answer.kind === 'unreadable'
          ? { topic: replyTopic, reason: `answer on ${replyTopic} is unreadable (${answer.reason}), so not signed` }
          : checkSignature(trust, { topic: replyTopic, correlationId }, answer.body, [answererOf(call.topic)]);
      if (rejected) {
        this.options.security?.onRejected?.({ ...rejected, requestId: call.requestId, sessionId: call.sessionId });
        return;
      }
    }
    if (!p) return; // a genuine answer after the deadline
    this.end(correlationId);
    if (answer.kind === 'error') {
      const err = new MessagingError(
        'remote',
        `${p.topic} answered with an error: ${describeRemoteError(answer.body)}`,
      );
      observe(p, 'error', err);
      p.reject(err);
      return;
    }
    try {
      if (answer.kind === 'unreadable') throw new ContractViolation(replyTopic, answer.reason);
      const reply = parseContract(replyTopic, RequestReplyContracts[p.topic].reply, answer.body);
      observe(p, 'ok');
      p.resolve(reply);
    } catch (err) {
      const reason = err instanceof ContractViolation ? err.message : String(err);
      const failure = new MessagingError('contract', `bad reply on ${replyTopic}: ${reason}`, { cause: err });
      observe(p, 'error', failure);
      p.reject(failure);
    }
  }

  /** A call that is over, if it ended recently enough to be remembered. */
  private remembered(correlationId: string): Settled | undefined {
    const s = this.settled.get(correlationId);
    return s && performance.now() - s.at < SETTLED_KEPT_MS ? s : undefined;
  }

  /** Ends a pending call (its timer too) and remembers it a while; returns it, if it was pending. */
  private end(correlationId: string): Pending | undefined {
    const p = this.pending.get(correlationId);
    if (!p) return undefined;
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    const now = performance.now();
    this.settled.set(correlationId, { topic: p.topic, requestId: p.requestId, sessionId: p.sessionId, at: now });
    for (const [id, s] of this.settled) {
      if (this.settled.size <= SETTLED_KEPT_MAX && now - s.at < SETTLED_KEPT_MS) break;
      this.settled.delete(id);
    }
    return p;
  }

  private fail(correlationId: string, err: MessagingError): void {
    const p = this.end(correlationId);
    if (!p) return;
    observe(p, 'error', err);
    p.reject(err);
  }

  async close(): Promise<void> {
    this.connected = false;
    for (const [id] of this.pending) this.fail(id, new MessagingError('closed', 'client closed'));
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}

/** The message of an error reply: `{status, message}` as answerRequest sends it, or its text. */
function describeRemoteError(body: unknown): string {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : typeof body === 'string' ? body : JSON.stringify(body);
}
