import 'reflect-metadata';
import cluster from 'node:cluster';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Logger } from 'nestjs-pino';
import { kafkaServerOptions } from '@airlock/messaging';
import { joinWorkerMetrics, serveWorkerMetrics, startProcessMetrics, startTracing } from '@airlock/observability';
import { ConfigError, kafkaConnection, type BaseConfig } from './config';

export interface ServiceBootstrap {
  name: string;
  module: unknown;
  host: string;
  port: number;
  /** @nestjs/microservices options; every service joins Kafka as a microservice too. */
  microservice?: MicroserviceOptions;
  /** Runs on the Fastify app before it listens (content parsers, raw routes). */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /** False leaves request bodies unparsed (the proxy streams them through). */
  bodyParser?: boolean;
  /** Browser origins (the web console) allowed to call the HTTP API with a bearer token. */
  corsOrigins?: readonly string[];
  /** OTEL_EXPORTER_OTLP_ENDPOINT: where spans go; unset, tracing is off. */
  otlpEndpoint?: string;
}

/** Starts one service: its HTTP app (admin API, health) and its Kafka microservice. */
export async function startService(b: ServiceBootstrap): Promise<NestFastifyApplication> {
  // Before anything connects: the series and the tracer are there for the first request.
  startProcessMetrics(b.name);
  startTracing(b.name, b.otlpEndpoint);
  const adapter = new FastifyAdapter({ bodyLimit: 10 * 1024 * 1024, keepAliveTimeout: 65000 });
  const app = await NestFactory.create<NestFastifyApplication>(b.module as never, adapter, {
    bufferLogs: true,
    bodyParser: b.bodyParser ?? true,
    // A failure while starting (a refused database role, a wrong key) ends the process through
    // runMain with its message, rather than Nest's abort (which may write a core dump).
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  if (b.corsOrigins && b.corsOrigins.length > 0) {
    // Exact origins only, no credentials (cookies): the console sends its token in a header.
    app.enableCors({
      origin: [...b.corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      maxAge: 600,
    });
  }
  if (b.configure) await b.configure(app);
  if (b.microservice) {
    app.connectMicroservice<MicroserviceOptions>(b.microservice, { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  await app.listen(b.port, b.host);
  app.get(Logger).log(`${b.name} listening on http://${b.host}:${b.port}`);
  return app;
}

/** Entry point wrapper: a configuration error ends the process with a message that names the setting. */
export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
    } else {
      process.stderr.write(
        `${name}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
    process.exit(1);
  });
}

/** A message one worker sends to all the others through the primary (see runWorkers). */
export interface WorkerBroadcast {
  airlockBroadcast: string;
  payload: Record<string, string | number>;
}

export function isWorkerBroadcast(message: unknown): message is WorkerBroadcast {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as WorkerBroadcast).airlockBroadcast === 'string' &&
    typeof (message as WorkerBroadcast).payload === 'object'
  );
}

/** Sends a message to the other workers of this service; false when this process is not a worker. */
export function broadcastToWorkers(kind: string, payload: Record<string, string | number>): boolean {
  if (!cluster.isWorker || !process.send) return false;
  const message: WorkerBroadcast = { airlockBroadcast: kind, payload };
  process.send(message);
  return true;
}

/**
 * Runs `main` in `workers` processes that share the listening port (node:cluster), so a
 * CPU-bound service can use more than one core. A worker that dies takes the whole service
 * down: the supervisor (systemd, Kubernetes, up.sh) restarts it, and nothing half-alive stays.
 */
export async function runWorkers(
  name: string,
  workers: number,
  main: (workerId: number) => Promise<unknown>,
): Promise<void> {
  if (workers <= 1) {
    await main(0);
    return;
  }
  if (!cluster.isPrimary) {
    joinWorkerMetrics();
    await main(cluster.worker?.id ?? 0);
    return;
  }
  serveWorkerMetrics();
  for (let i = 0; i < workers; i++) cluster.fork();
  // A worker may need to reach its siblings (a PostgreSQL CancelRequest lands on any worker,
  // the session it names lives on one): the primary relays such messages to every other worker.
  cluster.on('message', (from, message: unknown) => {
    if (!isWorkerBroadcast(message)) return;
    for (const w of Object.values(cluster.workers ?? {})) if (w && w.id !== from.id) w.send(message);
  });
  const stopAll = (sig: NodeJS.Signals): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill(sig);
  };
  cluster.on('exit', (worker, code, signal) => {
    process.stderr.write(`${name}: worker ${worker.id} exited (${signal ?? code}); stopping\n`);
    process.exitCode = 1;
    stopAll('SIGTERM');
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      cluster.removeAllListeners('exit');
      stopAll(sig);
    });
  }
}

/**
 * The entry point of a service whose Kafka consumer group is shared by all its instances:
 * validates the configuration, then starts the HTTP app and the Kafka microservice.
 */
export function serviceMain<C extends BaseConfig>(
  name: string,
  loadConfig: () => C,
  module: (config: C) => unknown,
  kafka: { commitOffsets?: boolean; groupSuffix?: string } = {},
): void {
  runMain(name, async () => {
    const config = loadConfig();
    await startService({
      name,
      module: module(config),
      host: config.HTTP_HOST,
      port: config.HTTP_PORT,
      corsOrigins: config.CONSOLE_ORIGINS,
      otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
      microservice: kafkaServerOptions({
        ...kafkaConnection(config),
        clientId: `airlock-${name}`,
        groupId: `${config.KAFKA_GROUP_PREFIX}-${name}${kafka.groupSuffix ?? ''}`,
        commitOffsets: kafka.commitOffsets,
      }),
    });
  });
}
