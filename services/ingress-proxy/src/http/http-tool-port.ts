import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { GatewayError } from '../errors';
import type {
  HttpToolPort,
  HttpToolRequest,
  HttpToolResponse,
  PendingCall,
  RefusedCall,
  ToolCaller,
} from '../tool-ports/tool-ports';
import { HttpGateway } from './http-gateway';

/**
 * The HTTP adapter as a tool port: the call goes through `HttpGateway` exactly as a request on
 * `/c/<connection>/...` would (canonical form, policy, holds, credential injection, masking,
 * audit), with the tool recorded on its events. The response body is read into memory up to the
 * caller's limit; what is cut off is dropped upstream-side and the outcome recorded as aborted.
 */
@Injectable()
export class HttpToolPortService implements HttpToolPort {
  constructor(private readonly gateway: HttpGateway) {}

  async request(caller: ToolCaller, req: HttpToolRequest): Promise<HttpToolResponse | PendingCall | RefusedCall> {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(req.body.length);
    // The gateway's own wait for a person is bounded by the tool's: then the call answers pending.
    const wait = new AbortController();
    const timer = setTimeout(() => wait.abort('the tool call stopped waiting for approval'), caller.holdWaitMs);
    const signal = caller.signal ? AbortSignal.any([caller.signal, wait.signal]) : wait.signal;
    try {
      const handled = await this.gateway.handle(
        {
          principal: caller.principal,
          method: req.method,
          url: `/c/${req.connection}${req.path}${req.query ? `?${req.query}` : ''}`,
          headers,
          body: req.body !== undefined ? Readable.from([req.body], { objectMode: false }) : undefined,
          clientIp: caller.client,
          signal,
          tool: caller.tool,
        },
        caller.sessionId,
      );
      if (handled.kind === 'pending') {
        return {
          kind: 'pending',
          requestId: handled.requestId,
          approvalId: handled.approvalId,
          url: handled.url,
          expiresAt: handled.expiresAt,
        };
      }
      const { upstream } = handled;
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      try {
        for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
          const room = req.maxBytes - kept;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            kept += room;
            truncated = true;
            break;
          }
          chunks.push(chunk);
          kept += chunk.length;
        }
      } catch (err) {
        handled.done({ bytesOut: kept, aborted: true });
        throw new GatewayError(502, 'upstream_unavailable', 'the upstream response failed midway', { cause: err });
      }
      if (truncated) upstream.body.destroy();
      handled.done({ bytesOut: kept, aborted: truncated });
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(upstream.headers))
        out[name] = Array.isArray(value) ? value.join(', ') : value;
      return {
        kind: 'response',
        requestId: handled.requestId,
        status: upstream.status,
        headers: out,
        body: Buffer.concat(chunks),
        truncated,
      };
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      return {
        kind: 'refused',
        requestId: err.requestId,
        status: err.status,
        code: err.code,
        message: err.publicMessage,
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
