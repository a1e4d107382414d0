import type { HttpException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { truncateText, uuidv7, type AuditEventDraft, type Principal } from '@airlock/contracts';
import { rpcMessageOf, SignedRpcError } from '@airlock/messaging';
import type { HealthReport } from './health';

/** What every refused HTTP call of an admin or audit API answers: a stable code and a public message. */
export interface ErrorBody {
  error: string;
  message: string;
}

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** The stable `error` code of an HTTP status that no domain error named. */
export function errorCodeOf(status: number): string {
  return CODES[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

/**
 * Nest's and Fastify's own HTTP errors (no route, body not JSON, body too large) carry short
 * fixed texts; anything at 500 and above is answered generically.
 */
export function publicMessageOf(exception: HttpException, status: number): string {
  if (status >= 500) return 'internal error';
  const r = exception.getResponse();
  const message = typeof r === 'string' ? r : (r as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/** The 503 answer of `GET /health`, which carries its failing checks and is passed on as it is. */
export function isHealthReport(r: unknown): r is HealthReport {
  return typeof r === 'object' && r !== null && 'checks' in r && 'service' in r;
}

/** Only the message and stack of an error: its other properties (a query's parameters) may hold data. */
export function causeText(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

/**
 * Sends an error body, never cached. When part of an answer has already gone out (a stream that
 * failed midway), the connection is cut instead: the caller sees a broken answer, not a wrong one.
 */
export async function sendErrorBody(reply: FastifyReply, status: number, body: ErrorBody): Promise<void> {
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  await reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}

/**
 * The `auth.failed` event of an HTTP call refused for its credentials (`actor` null) or for its
 * caller's groups (`actor` set). The path is kept without its query string.
 */
export function refusedCallEvent(
  req: { method: string; url: string },
  actor: Principal | null,
  code: string,
  reason: string,
  source: string,
): AuditEventDraft<'auth.failed'> {
  return {
    type: 'auth.failed',
    sessionId: uuidv7(),
    requestId: uuidv7(),
    actor,
    connection: null,
    protocol: 'http',
    source,
    data: { code, reason, method: req.method, path: truncateText(req.url.split('?')[0], 2048) },
  };
}

/**
 * A refusal a service answers itself. `publicMessage` is what the caller sees; `cause` is for
 * the logs only. Each service names its own subclasses (not found, forbidden, ...).
 */
export class PublicError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly publicMessage: string,
    options?: { cause?: unknown },
  ) {
    super(publicMessage, options);
    this.name = new.target.name;
  }
}

/** Input that does not match its schema. */
export class InvalidInputError extends PublicError {
  constructor(message: string, code = 'bad_request') {
    super(400, code, message);
  }
}

/** An authenticated caller outside the group the operation requires. */
export class ForbiddenError extends PublicError {
  constructor(message: string, code = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends PublicError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends PublicError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** A dependency did not answer; nothing was changed unless the message says otherwise. */
export class UnavailableError extends PublicError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(503, code, message, options);
  }
}

/**
 * Checks input against a schema; a failure names every field at fault. Messages come from the
 * schema, never from the input: a rejected secret is not echoed back.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, field?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => {
    const path = [...(field ? [field] : []), ...i.path.map(String)].join('.') || 'body';
    return `${path}: ${i.message}`;
  });
  throw new InvalidInputError(issues.join('; '));
}

/** What a Kafka request handler's caller receives in the `kafka_nest-err` header. */
export interface RpcErrorBody {
  status: 'error';
  message: string;
}

/**
 * The error reply of a Kafka request: a service's own refusal keeps its public message (its cause
 * goes to the log), anything unknown is logged and answered generically.
 */
export function rpcErrorBody(
  exception: unknown,
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void },
  unexpected = 'unexpected error answering a request',
): RpcErrorBody {
  if (exception instanceof SignedRpcError) return exception.sign(rpcErrorBody(exception.refusal, logger, unexpected));
  if (exception instanceof PublicError) {
    if (exception.cause !== undefined)
      logger.warn({ err: causeText(exception.cause) }, `request refused: ${exception.publicMessage}`);
    return { status: 'error', message: exception.publicMessage };
  }
  if (exception instanceof RpcException) return { status: 'error', message: rpcMessageOf(exception) };
  logger.error({ err: causeText(exception) }, unexpected);
  return { status: 'error', message: 'internal error' };
}
