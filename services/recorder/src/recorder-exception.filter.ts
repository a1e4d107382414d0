import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throwError, type Observable } from 'rxjs';
import type { Principal } from '@airlock/contracts';
import { answerApiError } from '@airlock/identity';
import { causeText, refusedCallEvent } from '@airlock/runtime';
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

  private http(exception: unknown, host: ArgumentsHost): Promise<void> {
    const ctx = host.switchToHttp();
    return answerApiError(
      exception,
      ctx.getRequest<FastifyRequest & { user?: Principal }>(),
      ctx.getResponse<FastifyReply>(),
      {
        logger: this.logger,
        auditRefusal: (req, actor, code, reason) => this.auditRefusal(req, actor, code, reason),
      },
    );
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
