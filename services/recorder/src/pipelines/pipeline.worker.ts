import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { metricsRegistry, startTracing, stopTracing } from '@airlock/observability';
import { AuditConsumer } from '../audit/audit.consumer';
import { AuditRepository } from '../audit/audit.repository';
import { RecorderMetrics } from '../audit/recorder-metrics';
import { recorderConfig } from '../config';
import { PipelineModule } from './pipeline.module';
import type { FromPipeline, PipelineAsk, ToPipeline } from './pipeline-threads';
import { pipelineStats } from './pipeline-reports';

/**
 * A pipeline thread of the recorder (AuditPipelines starts it): runs one audit pipeline, joining
 * the group and reading when the main thread says, and answers its asks until it is told to
 * stop. A failure to start, or any error it does not handle, ends the thread, and with it the
 * recorder.
 */
async function runPipeline(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('an audit pipeline thread runs inside the recorder (AuditPipelines starts it)');
  const config = recorderConfig();
  // The process's own series (CPU, memory) come from the main thread; these are added to them.
  metricsRegistry.setDefaultLabels({ service: 'recorder' });
  startTracing('recorder', config.OTEL_EXPORTER_OTLP_ENDPOINT);
  const { pipeline } = workerData as { pipeline: number };
  const app = await NestFactory.createApplicationContext(PipelineModule.forConfig(config, pipeline), {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  const consumer = app.get(AuditConsumer);
  const repository = app.get(AuditRepository);
  const metrics = app.get(RecorderMetrics);
  const answers: Record<PipelineAsk, () => unknown> = {
    join: () => consumer.start({ paused: true }),
    read: () => consumer.resume(),
    stats: () => pipelineStats(consumer, repository),
    latency: () => metrics.latencyRecord(),
    metrics: () => metricsRegistry.getMetricsAsJSON(),
    health: () => consumer.isRunning,
  };
  const post = (message: FromPipeline): void => port.postMessage(message);
  port.on('message', (message: ToPipeline) => {
    if (message.type === 'ask') {
      Promise.resolve()
        .then(() => answers[message.what]())
        .then(
          (value) => post({ type: 'answer', id: message.id, value }),
          (err: Error) => post({ type: 'answer', id: message.id, error: err.message }),
        );
    } else if (message.type === 'stop') {
      // Stores what was read, then ends the thread (the main thread waits for its exit).
      app
        .close()
        .then(stopTracing)
        .then(
          () => process.exit(0),
          (err: Error) => {
            app.get(Logger).error({ err: err.message }, 'audit pipeline did not stop cleanly');
            process.exit(1);
          },
        );
    }
  });
  post({ type: 'ready' });
}

runPipeline().catch((err: unknown) => {
  // Ends the thread with the error: the main thread reports it.
  setImmediate(() => {
    throw err;
  });
});
