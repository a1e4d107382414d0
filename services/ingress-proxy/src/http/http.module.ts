import { Module } from '@nestjs/common';
import { OperationModule } from '../operation/operation.module';
import { HttpGateway } from './http-gateway';
import { HttpRoute } from './http-route';
import { HttpToolPortService } from './http-tool-port';
import { HTTP_TOOL_PORT } from '../tool-ports/tool-ports';
import { UpstreamClient } from './upstream.client';

/**
 * The HTTP adapter: `/c/<connection>/...` served from the Node server's own request event (see
 * HttpRoute), not through Nest's per-request pipeline, which stays for the admin API and health.
 */
@Module({
  imports: [OperationModule],
  providers: [
    UpstreamClient,
    HttpGateway,
    HttpRoute,
    HttpToolPortService,
    { provide: HTTP_TOOL_PORT, useExisting: HttpToolPortService },
  ],
  // HTTP_TOOL_PORT: how the MCP adapter runs an http_request call here (see tool-ports).
  exports: [HttpRoute, HTTP_TOOL_PORT],
})
export class HttpAdapterModule {}
