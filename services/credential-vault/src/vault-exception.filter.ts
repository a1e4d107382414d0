import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throwError, type Observable } from 'rxjs';
import type { Principal } from '@airlock/contracts';
import { answerApiError } from '@airlock/identity';
import { causeText, refusedCallEvent } from '@airlock/runtime';
import { VaultError } from './errors';
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
