import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { kafkaServerOptions } from '@airlock/messaging';
import { kafkaConnection, runMain, runWorkers, startService } from '@airlock/runtime';
import { AppModule } from './app.module';
import { HttpRoute } from './http/http-route';
import { McpRoute } from './mcp/mcp-route';
import { ingressConfig, type IngressConfig } from './config';

// The SQL parser is a large WebAssembly module. Optimising it with TurboFan keeps about 60 MB more
// resident for a few percent of parsing speed, and classified texts are cached anyway: the
// baseline compiler is enough. Set before the module is compiled.
setFlagsFromString('--liftoff-only');

runMain('ingress-proxy', async () => {
  const config = ingressConfig();
  await runWorkers('ingress-proxy', config.INGRESS_WORKERS, (worker) => startIngress(config, worker));
});

async function startIngress(config: IngressConfig, worker: number): Promise<void> {
  // Every worker is an instance of its own: its own reply consumer group and cache invalidations.
  const instance = `${config.INSTANCE_ID ?? randomUUID()}${worker ? `-w${worker}` : ''}`;
  await startService({
    name: 'ingress-proxy',
    module: AppModule.forConfig({ ...config, INSTANCE_ID: instance }),
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    bodyParser: false,
    configure: (app) => {
      // The data path is served from the server's request event: no Fastify or Nest on the way.
      app.get(HttpRoute).attach(app.getHttpServer());
      app.get(McpRoute).attach(app.getHttpServer());
    },
    microservice: kafkaServerOptions({
      ...kafkaConnection(config),
      clientId: 'airlock-ingress-proxy',
      // Cache invalidations must reach every instance: a consumer group per instance.
      groupId: `${config.KAFKA_GROUP_PREFIX}-ingress-proxy-${instance}`,
    }),
  });
}
