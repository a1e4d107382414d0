import { HttpException, type LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '@airlock/contracts';
import {
  PublicError,
  causeText,
  errorCodeOf,
  isHealthReport,
  publicMessageOf,
  sendErrorBody,
  type ErrorBody,
} from '@airlock/runtime';
import { TokenRejectedError } from './token-rejected.error';

/** Audits a refused call: `actor` null for bad credentials, the caller when its groups fall short. */
export type RefusalAudit = (
  req: FastifyRequest,
  actor: Principal | null,
  code: string,
  reason: string,
) => Promise<void>;

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
  deps: { logger: LoggerService; auditRefusal: RefusalAudit },
): Promise<void> {
  let status: number;
  let body: ErrorBody;
  if (exception instanceof PublicError) {
    status = exception.status;
    body = { error: exception.code, message: exception.publicMessage };
    if (exception.cause !== undefined) deps.logger.warn({ err: causeText(exception.cause) }, exception.publicMessage);
    if (status === 403 && req.user) await deps.auditRefusal(req, req.user, exception.code, exception.publicMessage);
  } else if (exception instanceof HttpException && exception.cause instanceof TokenRejectedError) {
    const rejection = exception.cause;
    status = exception.getStatus();
    body = {
      error: rejection.code === 'jwks_unavailable' ? 'identity_unavailable' : 'unauthorized',
      message: rejection.message,
    };
    await deps.auditRefusal(req, null, rejection.code, rejection.message);
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
