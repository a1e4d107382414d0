import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throwError, type Observable } from 'rxjs';
import type { Principal } from '@airlock/contracts';
import { TokenRejectedError } from '@airlock/identity';
import {
  causeText,
  errorCodeOf,
  isHealthReport,
  publicMessageOf,
  refusedCallEvent,
  sendErrorBody,
  type ErrorBody,
} from '@airlock/runtime';
import { ForbiddenError, RecorderError } from './errors';
import { AUDIT_SOURCE, RecorderAudit } from './replay/recorder-audit.service';

/**
 * The one place where errors become answers: over HTTP a JSON `{error, message}` with a stable
 * code. Internals never reach the caller; unknown errors are logged (message and stack only)
 * and answered generically. Refused credentials and callers outside the auditor group are
 * themselves audited: who tried to read the audit trail is part of it.
 */
@Catch()
export class RecorderExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(RecorderExceptionFilter.name);

  constructor(private readonly audit: RecorderAudit) {}

  catch(exception: unknown, host: ArgumentsHost): Promise<void> | Observable<never> {
    if (host.getType() === 'rpc') return throwError(() => this.rpcBody(exception));
    return this.http(exception, host);
  }

  /** The recorder's Kafka handlers take events only; nobody waits for this, it keeps Nest's shape. */
  private rpcBody(exception: unknown): { status: 'error'; message: string } {
    if (exception instanceof RpcException) {
      const e = exception.getError();
      return { status: 'error', message: typeof e === 'string' ? e : String((e as { message?: unknown }).message) };
    }
    this.logger.error({ err: causeText(exception) }, 'unexpected error handling an event');
    return { status: 'error', message: 'internal error' };
  }

  private async http(exception: unknown, host: ArgumentsHost): Promise<void> {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest & { user?: Principal }>();
    const reply = ctx.getResponse<FastifyReply>();
    let status: number;
    let body: ErrorBody;
    if (exception instanceof RecorderError) {
      status = exception.status;
      body = { error: exception.code, message: exception.publicMessage };
      if (exception.cause !== undefined) this.logger.warn({ err: causeText(exception.cause) }, exception.publicMessage);
      if (exception instanceof ForbiddenError && req.user) {
        await this.auditRefusal(req, req.user, 'forbidden', exception.publicMessage);
      }
    } else if (exception instanceof HttpException && exception.cause instanceof TokenRejectedError) {
      const rejection = exception.cause;
      status = exception.getStatus();
      body = {
        error: rejection.code === 'jwks_unavailable' ? 'identity_unavailable' : 'unauthorized',
        message: rejection.message,
      };
      await this.auditRefusal(req, null, rejection.code, rejection.message);
    } else if (exception instanceof HttpException && isHealthReport(exception.getResponse())) {
      // GET /health answers 503 with the failing checks: the runtime's contract, kept as it is.
      await reply.code(exception.getStatus()).send(exception.getResponse());
      return;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      body = { error: errorCodeOf(status), message: publicMessageOf(exception, status) };
    } else {
      this.logger.error({ err: causeText(exception), method: req.method, url: req.url }, 'unexpected error');
      status = 500;
      body = { error: 'internal', message: 'internal error' };
    }
    await sendErrorBody(reply, status, body);
  }

  /** A refusal is answered even when its audit event cannot be published; the failure is logged. */
  private async auditRefusal(
    req: FastifyRequest,
    actor: Principal | null,
    code: string,
    reason: string,
  ): Promise<void> {
    try {
      await this.audit.emit(refusedCallEvent(req, actor, code, reason, AUDIT_SOURCE));
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message },
        'audit event of a refused audit API call could not be published',
      );
    }
  }
}
