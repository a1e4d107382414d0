import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

interface ErrorBody {
  error: string;
  message: string;
}

/**
 * Errors of the Nest routes (health, the admin API) as HTTP answers: a JSON body with a stable
 * `error` code and a public message. Internals never reach the client; unknown errors are logged
 * and answered 500. The data path answers its own errors (http/http-answers.ts).
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(GatewayExceptionFilter.name);

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    let status: number;
    let body: ErrorBody;
    if (exception instanceof HttpException) {
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
}
