import { Module } from '@nestjs/common';
import { OperationModule } from '../operation/operation.module';
import { HttpGateway } from './http-gateway';
import { HttpRoute } from './http-route';
import { UpstreamClient } from './upstream.client';

/**
 * The HTTP adapter: `/c/<connection>/...` served from the Node server's own request event (see
 * HttpRoute), not through Nest's per-request pipeline, which stays for the admin API and health.
 */
@Module({
  imports: [OperationModule],
  providers: [UpstreamClient, HttpGateway, HttpRoute],
  exports: [HttpRoute],
})
export class HttpAdapterModule {}
