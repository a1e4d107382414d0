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
import { ForbiddenError, VaultError } from './errors';
import { AUDIT_SOURCE, VaultAudit } from './publishing/vault-audit.service';

/** What a Kafka request handler's caller receives in the `kafka_nest-err` header. */
interface RpcErrorBody {
  status: 'error';
  message: string;
}

/**
 * The one place where errors become answers: over HTTP a JSON `{error, message}` with a stable
 * code, over Kafka an error reply with the public message. Internals never reach the caller;
 * unknown errors are logged (message and stack only, never a request body) and answered
 * generically. Refused credentials and callers outside the admin group are audited.
 */
@Catch()
export class VaultExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(VaultExceptionFilter.name);

  constructor(private readonly audit: VaultAudit) {}

  catch(exception: unknown, host: ArgumentsHost): Promise<void> | Observable<never> {
    if (host.getType() === 'rpc') return throwError(() => this.rpcBody(exception));
    return this.http(exception, host);
  }

  private rpcBody(exception: unknown): RpcErrorBody {
    if (exception instanceof VaultError) {
      if (exception.cause !== undefined) {
        this.logger.warn({ err: causeText(exception.cause) }, `lease refused: ${exception.publicMessage}`);
      }
      return { status: 'error', message: exception.publicMessage };
    }
    if (exception instanceof RpcException) {
      const e = exception.getError();
      return { status: 'error', message: typeof e === 'string' ? e : String((e as { message?: unknown }).message) };
    }
    this.logger.error({ err: causeText(exception) }, 'unexpected error answering a request');
    return { status: 'error', message: 'internal error' };
  }

  private async http(exception: unknown, host: ArgumentsHost): Promise<void> {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest & { user?: Principal }>();
    const reply = ctx.getResponse<FastifyReply>();
    let status: number;
    let body: ErrorBody;
    if (exception instanceof VaultError) {
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

  private async auditRefusal(
    req: FastifyRequest,
    actor: Principal | null,
    code: string,
    reason: string,
  ): Promise<void> {
    try {
      await this.audit.emit(refusedCallEvent(req, actor, code, reason, AUDIT_SOURCE));
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'audit event of a refused admin call could not be published');
    }
  }
}
