import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { addMetricsSource, type MetricsSource } from '@airlock/observability';
import { AuditConsumer } from '../audit/audit.consumer';
import { AuditRepository } from '../audit/audit.repository';
import { RecorderMetrics } from '../audit/recorder-metrics';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import { PipelineThreads } from './pipeline-threads';
import { mergeLatency, pipelineStats, sumStats, type LatencyRecord, type PipelineStats } from './pipeline-reports';

/** How long a pipeline thread's consumer may take to join the group. */
const JOIN_TIMEOUT_MS = 60_000;
/** How long a pipeline thread has to store what it read when the recorder stops. */
const STOP_TIMEOUT_MS = 30_000;

/**
 * The young generation of a pipeline thread: what the process's `--max-semi-space-size` gives
 * the main thread (three semi-spaces; see libs/runtime/src/node-flags.ts), which a worker thread
 * does not take from the process's flags.
 */
export function youngGenerationMb(execArgv: readonly string[]): number | undefined {
  const flag = execArgv.find((a) => /^--max[-_]semi[-_]space[-_]size=\d+$/.test(a));
  return flag === undefined ? undefined : 3 * Number(flag.split('=')[1]);
}

/**
 * Every audit pipeline of this process (RECORDER_PIPELINES): the main thread's and those it
 * starts on worker threads once the store is migrated. Here the process's ingest figures are
 * added up (GET /audit/stats, /audit/latency, /metrics) and its readiness asks every pipeline.
 * A pipeline thread that fails stops the whole recorder (see PipelineThreads).
 */
@Injectable()
export class AuditPipelines implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditPipelines.name);
  private threads: PipelineThreads | undefined;
  private readonly removeSources: (() => void)[] = [];
  private failure: Error | undefined;

  constructor(
    @Inject(RECORDER_CONFIG) private readonly config: RecorderConfig,
    private readonly consumer: AuditConsumer,
    private readonly repository: AuditRepository,
    private readonly metrics: RecorderMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.startThreads();
    const threads = this.threads;
    if (!threads) {
      await this.consumer.start();
      return;
    }
    // Every pipeline joins the group before any reads: one that read while the others were still
    // joining would read ahead what the group then gives them, to be read again (8 % of a
    // 500,000-event backlog in bench/recorder-ingest.ts). Once the last has joined, the group has
    // given each its partitions.
    await Promise.all([threads.askAll('join', JOIN_TIMEOUT_MS), this.consumer.start({ paused: true })]);
    await threads.askAll('read');
    this.consumer.resume();
  }

  private async startThreads(): Promise<void> {
    const extra = this.config.RECORDER_PIPELINES - 1;
    if (extra === 0) return;
    const young = youngGenerationMb(process.execArgv);
    const threads = new PipelineThreads(
      extra,
      (pipeline) =>
        new Worker(join(__dirname, 'pipeline.worker.js'), {
          workerData: { pipeline },
          ...(young === undefined ? {} : { resourceLimits: { maxYoungGenerationSizeMb: young } }),
        }),
      (err) => this.failed(err),
    );
    await threads.start();
    this.threads = threads;
    for (let pipeline = 1; pipeline <= threads.size; pipeline++) {
      const source = (): ReturnType<MetricsSource> => threads.ask(pipeline, 'metrics') as ReturnType<MetricsSource>;
      this.removeSources.push(addMetricsSource(source));
    }
    this.logger.log({ pipelines: this.config.RECORDER_PIPELINES }, 'audit pipelines running');
  }

  /** A pipeline thread failed or ended on its own: the recorder stops (its supervisor restarts it). */
  private failed(err: Error): void {
    this.failure = err;
    this.logger.error({ err: err.message }, 'an audit pipeline thread failed: the recorder stops');
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  }

  /** Each pipeline's counters, the main thread's first. */
  async byPipeline(): Promise<PipelineStats[]> {
    const others = ((await this.threads?.askAll('stats')) ?? []) as PipelineStats[];
    return [pipelineStats(this.consumer, this.repository), ...others];
  }

  /** The process's counters: every pipeline's, added up. */
  async stats(): Promise<PipelineStats> {
    return sumStats(await this.byPipeline());
  }

  async latency(): Promise<LatencyRecord> {
    const others = ((await this.threads?.askAll('latency')) ?? []) as LatencyRecord[];
    return mergeLatency([this.metrics.latencyRecord(), ...others]);
  }

  /** Throws unless every pipeline's consumer runs. */
  async checkRunning(): Promise<void> {
    if (this.failure) throw new Error(`an audit pipeline thread failed: ${this.failure.message}`);
    if (!this.consumer.isRunning) throw new Error('audit consumer is not running');
    const running = (await this.threads?.askAll('health')) ?? [];
    const stopped = running.findIndex((r) => r !== true);
    if (stopped >= 0) throw new Error(`audit consumer of pipeline ${stopped + 1} is not running`);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const remove of this.removeSources.splice(0)) remove();
    const forced = (await this.threads?.stop(STOP_TIMEOUT_MS)) ?? [];
    for (const pipeline of forced) {
      this.logger.warn(
        { pipeline },
        `audit pipeline ${pipeline} did not stop within ${STOP_TIMEOUT_MS} ms: ended (what it read is read again)`,
      );
    }
  }
}
