import { HttpException, type ArgumentsHost, type LoggerService } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEventDraft, Principal } from '@airlock/contracts';
import {
  PublicError,
  causeText,
  errorCodeOf,
  isHealthReport,
  publicMessageOf,
  refusedCallEvent,
  rpcErrorBody,
  sendErrorBody,
  type ErrorBody,
} from '@airlock/runtime';
import { TokenRejectedError } from './token-rejected.error';

export interface RefusalAudit {
  logger: LoggerService;
  /** Publishes the `auth.failed` event of a refused call. */
  publish: (event: AuditEventDraft<'auth.failed'>) => Promise<unknown>;
  /** The `source` of those events: the service's name. */
  source: string;
  /** Names the API in log lines: "admin", "audit API". */
  api: string;
  /** The log line of an unexpected error in a Kafka handler. */
  rpcUnexpected?: string;
}

/**
 * Audits a refused call (`actor` null for bad credentials, the caller when its groups fall
 * short). The refusal is answered even when its event cannot be published; that is logged.
 */
async function auditRefusal(
  deps: RefusalAudit,
  req: FastifyRequest,
  actor: Principal | null,
  code: string,
  reason: string,
): Promise<void> {
  try {
    await deps.publish(refusedCallEvent(req, actor, code, reason, deps.source));
  } catch (err) {
    deps.logger.error(
      { err: (err as Error).message },
      `audit event of a refused ${deps.api} call could not be published`,
    );
  }
}

/**
 * How an admin or audit API answers an error over HTTP: a JSON `{error, message}` with a stable
 * code. A service's own refusals (`PublicError`) carry their status and public message; token
 * rejections become 401 (or 503 when the issuer's keys cannot be had); Nest's and Fastify's HTTP
 * errors keep their short texts; anything else is logged and answered generically. Refused
 * credentials and callers outside the required group are audited.
 */
export async function answerApiError(
  exception: unknown,
  req: FastifyRequest & { user?: Principal },
  reply: FastifyReply,
  deps: RefusalAudit,
): Promise<void> {
  let status: number;
  let body: ErrorBody;
  if (exception instanceof PublicError) {
    status = exception.status;
    body = { error: exception.code, message: exception.publicMessage };
    if (exception.cause !== undefined) deps.logger.warn({ err: causeText(exception.cause) }, exception.publicMessage);
    if (status === 403 && req.user) await auditRefusal(deps, req, req.user, exception.code, exception.publicMessage);
  } else if (exception instanceof HttpException && exception.cause instanceof TokenRejectedError) {
    const rejection = exception.cause;
    status = exception.getStatus();
    body = {
      error: rejection.code === 'jwks_unavailable' ? 'identity_unavailable' : 'unauthorized',
      message: rejection.message,
    };
    await auditRefusal(deps, req, null, rejection.code, rejection.message);
  } else if (exception instanceof HttpException && isHealthReport(exception.getResponse())) {
    // GET /health answers 503 with the failing checks: the runtime's contract, kept as it is.
    await reply.code(exception.getStatus()).send(exception.getResponse());
    return;
  } else if (exception instanceof HttpException) {
    status = exception.getStatus();
    body = { error: errorCodeOf(status), message: publicMessageOf(exception, status) };
  } else {
    deps.logger.error({ err: causeText(exception), method: req.method, url: req.url }, 'unexpected error');
    status = 500;
    body = { error: 'internal', message: 'internal error' };
  }
  await sendErrorBody(reply, status, body);
}

/**
 * The body of a service's catch-all exception filter: over Kafka an error reply with the public
 * message, over HTTP `answerApiError`.
 */
export function answerError(
  exception: unknown,
  host: ArgumentsHost,
  deps: RefusalAudit,
): Promise<void> | Observable<never> {
  if (host.getType() === 'rpc') return throwError(() => rpcErrorBody(exception, deps.logger, deps.rpcUnexpected));
  const ctx = host.switchToHttp();
  return answerApiError(
    exception,
    ctx.getRequest<FastifyRequest & { user?: Principal }>(),
    ctx.getResponse<FastifyReply>(),
    deps,
  );
}
