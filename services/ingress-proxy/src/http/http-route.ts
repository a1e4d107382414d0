import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ConnectionNameSchema, uuidv7, type Principal } from '@airlock/contracts';
import { TOKEN_VERIFIER, TokenRejectedError, bearerToken, type TokenVerifier } from '@airlock/identity';
import { AuditService } from '../audit/audit.service';
import { httpAuthFailedDraft } from '../operation/operation-audit';
import { takeRequests } from '../server/take-requests';
import { errorAnswer, tokenRefusal, writeError } from './http-answers';
import { writeResponse } from './response-writer';
import { HttpGateway, type Forwarded, type PendingApproval } from './http-gateway';
import { splitGatewayUrl } from './http-path';
import { sessionIdOf } from './session';

/**
 * The data path: `/c/<connection>/<path>` for every method, served from the HTTP server's own
 * request event. Fastify and Nest (routing, hooks, middleware, guards, filters) are for the admin
 * API and health; here the token is verified by the same `TokenVerifier`, and every answer is
 * written in this file.
 */
@Injectable()
export class HttpRoute {
  private readonly logger = new Logger(HttpRoute.name);

  constructor(
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    private readonly gateway: HttpGateway,
    private readonly audit: AuditService,
  ) {}

  /** Takes the data path's requests off `server` before its other request listeners (Fastify's) see them. */
  attach(server: Server): void {
    takeRequests(
      server,
      (url) => url.startsWith('/c/'),
      (req, res) => void this.serve(req, res).catch((err: unknown) => this.fail(res, req, err)),
    );
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    let principal: Principal;
    try {
      principal = await this.verifier.verify(bearerToken(req.headers));
    } catch (err) {
      if (!(err instanceof TokenRejectedError)) throw err;
      const requestId = uuidv7();
      await this.auditAuthFailure(req, err, requestId);
      const { status, body } = tokenRefusal(err, requestId);
      writeError(res, status, body, status === 401 ? { 'www-authenticate': 'Bearer' } : undefined);
      return;
    }
    // A request held for approval stops waiting when its agent hangs up.
    const hungUp = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) hungUp.abort();
    });
    const handled = await this.gateway.handle(
      {
        principal,
        method,
        url,
        headers: req.headers,
        body: carriesBody(req) ? req : undefined,
        clientIp: req.socket.remoteAddress ?? '',
        signal: hungUp.signal,
      },
      sessionIdOf(req.headers),
    );
    if (handled.kind === 'pending') this.pending(res, handled);
    else this.forward(res, handled);
  }

  private forward(res: ServerResponse, fwd: Forwarded): void {
    const { status, headers, body } = fwd.upstream;
    let bytesOut = 0;
    let recorded = false;
    const record = (aborted: boolean): void => {
      if (recorded) return;
      recorded = true;
      fwd.done({ bytesOut, aborted });
    };
    res.once('finish', () => record(false));
    res.once('close', () => record(!res.writableFinished));
    writeResponse(
      res,
      status,
      { ...headers, 'x-airlock-request-id': fwd.requestId },
      body,
      (n) => (bytesOut += n),
      (err) => this.logger.warn({ requestId: fwd.requestId, err: err.message }, 'response stream failed midway'),
    );
  }

  /** 202: the request waits for a person; the agent retries after Retry-After with the same request. */
  private pending(res: ServerResponse, p: PendingApproval): void {
    const body: PendingApprovalBody = {
      status: 'pending_approval',
      approvalId: p.approvalId,
      ...(p.url ? { url: p.url } : {}),
      expiresAt: p.expiresAt,
      retryAfter: p.retryAfterSeconds,
    };
    const json = JSON.stringify(body);
    res.writeHead(202, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(json),
      'cache-control': 'no-store',
      'retry-after': String(p.retryAfterSeconds),
      'x-airlock-request-id': p.requestId,
    });
    res.end(json);
  }

  private fail(res: ServerResponse, req: IncomingMessage, err: unknown): void {
    const answer = errorAnswer(err);
    if (answer) {
      writeError(res, answer.status, answer.body);
      return;
    }
    this.logger.error({ err: err instanceof Error ? err.stack : String(err), url: req.url }, 'unexpected error');
    writeError(res, 500, { error: 'internal', message: 'internal error' });
  }

  private async auditAuthFailure(
    req: IncomingMessage,
    rejection: TokenRejectedError,
    requestId: string,
  ): Promise<void> {
    const parts = splitGatewayUrl(req.url ?? '/');
    const connection = parts && ConnectionNameSchema.safeParse(parts.connection).success ? parts.connection : null;
    try {
      await this.audit.emit(
        httpAuthFailedDraft(
          { sessionId: sessionIdOf(req.headers), requestId, connection },
          { code: rejection.code, reason: rejection.message, method: req.method ?? 'GET', path: parts?.path },
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

/** What an agent gets with a 202 for a request held for approval. */
interface PendingApprovalBody {
  status: 'pending_approval';
  approvalId: string;
  /** Where approvers look at it. */
  url?: string;
  /** When the approval expires if nobody decides. */
  expiresAt: string;
  /** Seconds to wait before retrying the same request (as Retry-After says). */
  retryAfter: number;
}

/** Whether the request has a body to stream upstream (a length above zero, or chunked). */
function carriesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
