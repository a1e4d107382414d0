import { Controller, Get, Header, type OnApplicationShutdown } from '@nestjs/common';
import { scrapeMetrics } from './cluster-metrics';
import { metricsRegistry } from './metrics';
import { stopTracing } from './tracing';

/**
 * `GET /metrics`: every series of the process in the Prometheus text format. Every service
 * declares it, so it is also where the spans still buffered are sent when the service stops.
 */
@Controller()
export class MetricsController implements OnApplicationShutdown {
  @Get('metrics')
  @Header('content-type', metricsRegistry.contentType)
  @Header('cache-control', 'no-store')
  metrics(): Promise<string> {
    return scrapeMetrics();
  }

  async onApplicationShutdown(): Promise<void> {
    await stopTracing();
  }
}
