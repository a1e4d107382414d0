import { Partitioners } from 'kafkajs';
import { Logger } from '@nestjs/common';
import { RpcException, Transport, type KafkaContext, type MicroserviceOptions } from '@nestjs/microservices';
import {
  ContractViolation,
  EventContracts,
  RequestReplyContracts,
  parseContract,
  producersOf,
  replyTopicOf,
  requesterOf,
  type EventOf,
  type EventTopic,
  type ReplyOf,
  type RequestOf,
  type RequestTopic,
} from '@airlock/contracts';
import {
  SpanKind,
  contextFromHeaders,
  counter,
  endSpan,
  startSpan,
  tracingEnabled,
  withSpan,
} from '@airlock/observability';
import { kafkaLogCreator, type KafkaSettings } from './kafka';
import { NestKafkaHeaders } from './headers';
import { checkSignature, type MessageSecurity } from './message-trust';
import { quietRequestQueues } from './request-queue-timer';

export interface KafkaServerSettings extends KafkaSettings {
  groupId: string;
  /**
   * Commit consumed offsets. Off for request/reply servers: kafkajs commits between one fetch
   * and the next, which adds a broker round trip to every request, and a request left over from
   * before a restart is past its caller's deadline anyway. On for consumers whose events must
   * survive a restart.
   */
  commitOffsets?: boolean;
}

/** Options for `app.connectMicroservice`: NestJS's Kafka server, tuned for low request latency. */
export function kafkaServerOptions(settings: KafkaServerSettings): MicroserviceOptions {
  quietRequestQueues();
  return {
    transport: Transport.KAFKA,
    options: {
      client: {
        clientId: settings.clientId,
        brokers: settings.brokers,
        sasl: settings.sasl,
        ssl: settings.ssl,
        connectionTimeout: 3000,
        retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 2000 },
        logCreator: kafkaLogCreator(nestKafkaLogSink('Kafka')),
      },
      consumer: {
        groupId: settings.groupId,
        allowAutoTopicCreation: false,
        sessionTimeout: 10000,
        heartbeatInterval: 1000,
        maxWaitTimeInMs: 500,
      },
      // The group id is already per service; Nest would append "-server".
      postfixId: '',
      subscribe: { fromBeginning: false },
      producer: { allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner },
      run: { partitionsConsumedConcurrently: 3, autoCommit: settings.commitOffsets ?? false },
    },
  };
}

const HANDLED_LABELS = ['topic', 'outcome'] as const;
/** Requests answered by this service, by topic and outcome (ok, rejected, error). */
const handled = counter({
  name: 'airlock_kafka_requests_handled_total',
  help: 'Kafka requests this service answered, by request topic and outcome (ok; rejected: bad contract, signature or deadline; error).',
  labelNames: HANDLED_LABELS,
});

function deadlineOf(ctx: KafkaContext | undefined): number | undefined {
  const raw = ctx?.getMessage().headers?.[NestKafkaHeaders.Deadline];
  if (raw === undefined || raw === null) return undefined;
  const n = Number(raw.toString());
  return Number.isFinite(n) ? n : undefined;
}

function correlationIdOf(ctx: KafkaContext | undefined): string | undefined {
  return ctx?.getMessage().headers?.[NestKafkaHeaders.CorrelationId]?.toString();
}

/**
 * Runs a request handler on a validated request and checks its reply against the contract too.
 * A request that fails its schema is answered with an error and logged; it never reaches `fn`.
 * With `security.trust`, a request must be signed by the service that sends on the topic with a
 * trusted key; with `security.signer`, the reply is signed for this exchange (topic and correlation id),
 * and so is an error reply (`SignedRpcError`).
 */
export async function answerRequest<T extends RequestTopic>(
  topic: T,
  payload: unknown,
  ctx: KafkaContext | undefined,
  logger: Logger,
  fn: (request: RequestOf<T>) => Promise<ReplyOf<T>> | ReplyOf<T>,
  security: MessageSecurity = {},
): Promise<ReplyOf<T>> {
  try {
    if (!tracingEnabled()) return await answer(topic, payload, ctx, logger, fn, security);
    // The caller's span (traceparent header) is the parent: the answer is one step of its trace.
    const span = startSpan(`${topic} handle`, SpanKind.SERVER, contextFromHeaders(ctx?.getMessage().headers));
    span.setAttribute('messaging.destination.name', topic);
    try {
      const reply = await withSpan(span, () => answer(topic, payload, ctx, logger, fn, security));
      endSpan(span);
      return reply;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  } catch (err) {
    const signer = security.signer;
    if (!signer) throw err;
    const context = { topic: replyTopicOf(topic), correlationId: correlationIdOf(ctx) };
    throw new SignedRpcError(err, (body) => signer.sign(context, body));
  }
}

/** The public message of an error reply when no exception filter says better: a RpcException's own, else a generic one. */
export function rpcMessageOf(err: unknown): string {
  if (!(err instanceof RpcException)) return 'internal error';
  const e = err.getError();
  return typeof e === 'string' ? e : String((e as { message?: unknown }).message);
}

/**
 * The error reply of a request, signed for its exchange like an answer: a caller that verifies
 * answers takes an unsigned error reply for a forgery (which could otherwise fail any call) and
 * goes on waiting for the genuine answer. Its body is `{status: 'error', message}` from the
 * refusal; a service's exception filter that knows the refusal better (`rpcErrorBody`) makes the
 * body again and signs it with `sign`.
 */
export class SignedRpcError extends RpcException {
  private static readonly logger = new Logger('RpcExceptionsHandler');
  private logged = false;

  constructor(
    readonly refusal: unknown,
    readonly sign: <B extends { status: 'error'; message: string }>(body: B) => B,
  ) {
    super(sign({ status: 'error' as const, message: rpcMessageOf(refusal) }));
  }

  /**
   * The body as sent by Nest's own exception filter (a service without a filter of its own),
   * which logs an unexpected refusal as it would have logged the refusal itself.
   */
  override getError(): string | object {
    if (!this.logged && !(this.refusal instanceof RpcException)) {
      this.logged = true;
      const err = this.refusal instanceof Error ? (this.refusal.stack ?? this.refusal.message) : String(this.refusal);
      SignedRpcError.logger.error({ err }, 'unexpected error answering a request');
    }
    return super.getError();
  }
}

async function answer<T extends RequestTopic>(
  topic: T,
  payload: unknown,
  ctx: KafkaContext | undefined,
  logger: Logger,
  fn: (request: RequestOf<T>) => Promise<ReplyOf<T>> | ReplyOf<T>,
  security: MessageSecurity,
): Promise<ReplyOf<T>> {
  const correlationId = correlationIdOf(ctx);
  let request: RequestOf<T>;
  try {
    request = parseContract(topic, RequestReplyContracts[topic].request, asObject(payload)) as RequestOf<T>;
  } catch (err) {
    logger.error({ topic, err: (err as Error).message }, 'rejected a request that does not match its contract');
    handled.labels(topic, 'rejected').inc();
    throw new RpcException({ status: 'error', message: (err as Error).message });
  }
  // Checked on the message as it came (unknown fields included), once it is known to be well-formed.
  if (security.trust) {
    const rejected = checkSignature(security.trust, { topic, correlationId }, payload, [requesterOf(topic)]);
    if (rejected) {
      logger.error(
        { topic, reason: rejected.reason, signer: rejected.signer, keyId: rejected.keyId },
        'refused a request whose signature does not verify',
      );
      security.onRejected?.(rejected);
      handled.labels(topic, 'rejected').inc();
      throw new RpcException({ status: 'error', message: 'request refused: its signature does not verify' });
    }
  }
  const deadline = deadlineOf(ctx);
  if (deadline !== undefined && Date.now() > deadline) {
    logger.warn({ topic }, 'skipped a request whose caller has given up');
    handled.labels(topic, 'rejected').inc();
    throw new RpcException({ status: 'error', message: 'deadline passed before the request was handled' });
  }
  let checked: ReplyOf<T>;
  try {
    const reply = await fn(request);
    checked = parseContract(`${topic}.reply`, RequestReplyContracts[topic].reply, reply) as ReplyOf<T>;
  } catch (err) {
    handled.labels(topic, 'error').inc();
    throw err;
  }
  handled.labels(topic, 'ok').inc();
  if (!security.signer) return checked;
  return security.signer.sign({ topic: replyTopicOf(topic), correlationId }, checked) as ReplyOf<T>;
}

/**
 * Runs an event handler on a validated event. A bad event is logged and skipped so the
 * consumer goes on with the next one; throwing would make kafkajs redeliver it forever.
 * With `security.trust`, an event must be signed by one of the topic's producers with a trusted key.
 */
export async function consumeEvent<T extends EventTopic>(
  topic: T,
  payload: unknown,
  logger: Logger,
  fn: (event: EventOf<T>) => Promise<void> | void,
  security: MessageSecurity = {},
): Promise<void> {
  let event: EventOf<T>;
  try {
    event = parseContract(topic, EventContracts[topic], asObject(payload)) as EventOf<T>;
  } catch (err) {
    logger.error(
      { topic, err: err instanceof ContractViolation ? err.message : String(err) },
      'rejected an event that does not match its contract',
    );
    return;
  }
  if (security.trust) {
    const rejected = checkSignature(security.trust, { topic }, payload, producersOf(topic));
    if (rejected) {
      logger.error(
        { topic, reason: rejected.reason, signer: rejected.signer, keyId: rejected.keyId },
        'refused an event whose signature does not verify',
      );
      security.onRejected?.(rejected);
      return;
    }
  }
  await fn(event);
}

/** Nest hands over JSON already parsed, or the raw text when it was not JSON. */
function asObject(payload: unknown): unknown {
  if (typeof payload === 'string') throw new ContractViolation('message', 'not valid JSON');
  return payload;
}

/** Sends kafkajs log lines to a Nest logger (pino underneath). */
export function nestKafkaLogSink(context = 'kafkajs') {
  const logger = new Logger(context);
  return {
    error: (o: object, m: string) => logger.error({ ...o, msg: m }),
    warn: (o: object, m: string) => logger.warn({ ...o, msg: m }),
    info: (o: object, m: string) => logger.log({ ...o, msg: m }),
    debug: (o: object, m: string) => logger.debug({ ...o, msg: m }),
  };
}

/** Injection token of a service's kafkajs client. */
export const KAFKA = Symbol('KAFKA');
