import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConnectionNameSchema, truncateText, uuidv7, type AuditEventDraft } from '@airlock/contracts';
import { TokenRejectedError } from '@airlock/identity';
import { AuditService } from './audit/audit.service';
import { GatewayError } from './errors';
import { splitGatewayUrl } from './proxy/http-path';
import { sessionIdOf } from './proxy/session';

interface ErrorBody {
  error: string;
  message: string;
  requestId?: string;
}

/**
 * The one place where errors become HTTP answers: a JSON body with a stable `error` code and a
 * public message. Internals never reach the client; unknown errors are logged and answered 500.
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(GatewayExceptionFilter.name);

  constructor(private readonly audit: AuditService) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    let status: number;
    let body: ErrorBody;
    if (exception instanceof GatewayError) {
      status = exception.status;
      body = { error: exception.code, message: exception.publicMessage, requestId: exception.requestId };
    } else if (exception instanceof HttpException && exception.cause instanceof TokenRejectedError) {
      status = exception.getStatus();
      const rejection = exception.cause;
      const requestId = uuidv7();
      body = {
        error: rejection.code === 'jwks_unavailable' ? 'identity_unavailable' : 'unauthorized',
        message: rejection.message,
        requestId,
      };
      await this.auditAuthFailure(req, rejection, requestId);
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const r = exception.getResponse();
      const message = typeof r === 'string' ? r : ((r as { message?: unknown }).message ?? exception.message);
      body = { error: status === 404 ? 'not_found' : 'bad_request', message: String(message) };
    } else {
      this.logger.error(
        { err: exception instanceof Error ? exception.stack : String(exception), url: req.url },
        'unexpected error',
      );
      status = 500;
      body = { error: 'internal', message: 'internal error' };
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    await reply.code(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private async auditAuthFailure(req: FastifyRequest, rejection: TokenRejectedError, requestId: string): Promise<void> {
    const parts = splitGatewayUrl(req.url);
    const connection = parts && ConnectionNameSchema.safeParse(parts.connection).success ? parts.connection : null;
    try {
      await this.audit.emit(
        httpAuthFailedDraft(
          { sessionId: sessionIdOf(req.headers), requestId, connection },
          { code: rejection.code, reason: rejection.message, method: req.method, path: parts?.path },
        ),
      );
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message },
        'audit event of an authentication failure could not be published',
      );
    }
  }
}

/** auth.failed for a refused HTTP request: the path (client text) is cut at a code point. */
export function httpAuthFailedDraft(
  env: { sessionId: string; requestId: string; connection: string | null },
  refused: { code: string; reason: string; method: string; path?: string },
): AuditEventDraft<'auth.failed'> {
  return {
    type: 'auth.failed',
    ...env,
    actor: null,
    protocol: 'http',
    source: 'ingress-proxy',
    data: {
      code: refused.code,
      reason: refused.reason,
      method: refused.method,
      path: refused.path === undefined ? undefined : truncateText(refused.path, 2048),
    },
  };
}
