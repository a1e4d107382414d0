import { All, Controller, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { Principal } from '@airlock/contracts';
import { JwtAuthGuard } from '@airlock/identity';
import { sessionIdOf } from './session';
import { ProxyService, type PendingApproval } from './proxy.service';

/** The data path: `/c/<connection>/<path>` for every method. */
@Controller('c')
@UseGuards(JwtAuthGuard)
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  @All('*')
  async forward(@Req() req: FastifyRequest & { user: Principal }, @Res() reply: FastifyReply): Promise<void> {
    // A request held for approval stops waiting when its agent hangs up.
    const hungUp = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) hungUp.abort();
    });
    const handled = await this.proxy.handle(
      {
        principal: req.user,
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: req.body as Readable | undefined,
        clientIp: req.ip,
        signal: hungUp.signal,
      },
      sessionIdOf(req.headers),
    );
    if (handled.kind === 'pending') return this.pending(reply, handled);
    const fwd = handled;
    const { status, headers, body } = fwd.upstream;
    let bytesOut = 0;
    let recorded = false;
    const record = (aborted: boolean): void => {
      if (recorded) return;
      recorded = true;
      fwd.done({ bytesOut, aborted });
    };
    body.on('data', (chunk: Buffer) => (bytesOut += chunk.length));
    reply.raw.once('finish', () => record(false));
    reply.raw.once('close', () => record(!reply.raw.writableFinished));
    await reply.code(status).headers(headers).header('x-airlock-request-id', fwd.requestId).send(body);
  }

  /** 202: the request waits for a person; the agent retries after Retry-After with the same request. */
  private async pending(reply: FastifyReply, p: PendingApproval): Promise<void> {
    const body: PendingApprovalBody = {
      status: 'pending_approval',
      approvalId: p.approvalId,
      ...(p.url ? { url: p.url } : {}),
      expiresAt: p.expiresAt,
      retryAfter: p.retryAfterSeconds,
    };
    await reply
      .code(202)
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('retry-after', String(p.retryAfterSeconds))
      .header('x-airlock-request-id', p.requestId)
      .send(body);
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
