import { All, Controller, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { Principal } from '@airlock/contracts';
import { JwtAuthGuard } from '@airlock/identity';
import { sessionIdOf } from './session';
import { ProxyService } from './proxy.service';

/** The data path: `/c/<connection>/<path>` for every method. */
@Controller('c')
@UseGuards(JwtAuthGuard)
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  @All('*')
  async forward(@Req() req: FastifyRequest & { user: Principal }, @Res() reply: FastifyReply): Promise<void> {
    const fwd = await this.proxy.handle(
      {
        principal: req.user,
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: req.body as Readable | undefined,
        clientIp: req.ip,
      },
      sessionIdOf(req.headers),
    );
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
}
