import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throwError, type Observable } from 'rxjs';
import { uuidv7, type Principal } from '@airlock/contracts';
import { TokenRejectedError } from '@airlock/identity';
import type { HealthReport } from '@airlock/runtime';
import { ForbiddenError, VaultError } from './errors';
import { AUDIT_SOURCE, VaultAudit } from './publishing/vault-audit.service';

interface ErrorBody {
  error: string;
  message: string;
}

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
      body = { error: codeOf(status), message: publicMessageOf(exception, status) };
    } else {
      this.logger.error({ err: causeText(exception), method: req.method, url: req.url }, 'unexpected error');
      status = 500;
      body = { error: 'internal', message: 'internal error' };
    }
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

  private async auditRefusal(
    req: FastifyRequest,
    actor: Principal | null,
    code: string,
    reason: string,
  ): Promise<void> {
    try {
      await this.audit.emit({
        type: 'auth.failed',
        sessionId: uuidv7(),
        requestId: uuidv7(),
        actor,
        connection: null,
        protocol: 'http',
        source: AUDIT_SOURCE,
        data: { code, reason, method: req.method, path: req.url.split('?')[0].slice(0, 2048) },
      });
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'audit event of a refused admin call could not be published');
    }
  }
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

function codeOf(status: number): string {
  return CODES[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

/**
 * Nest's and Fastify's own HTTP errors (no route, body not JSON, body too large) carry short
 * fixed texts; anything at 500 and above is answered generically.
 */
function publicMessageOf(exception: HttpException, status: number): string {
  if (status >= 500) return 'internal error';
  const r = exception.getResponse();
  const message = typeof r === 'string' ? r : (r as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : exception.message;
}

function isHealthReport(r: unknown): r is HealthReport {
  return typeof r === 'object' && r !== null && 'checks' in r && 'service' in r;
}

/** Only the message and stack of an error: its other properties (a query's parameters) may hold data. */
function causeText(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}
