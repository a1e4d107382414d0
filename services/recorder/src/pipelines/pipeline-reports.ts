import type { AuditConsumer } from '../audit/audit.consumer';
import type { AuditRepository } from '../audit/audit.repository';
import type { RecorderMetrics } from '../audit/recorder-metrics';

/** One pipeline's ingest counters since start (GET /audit/stats). */
export type PipelineStats = AuditConsumer['stats'] & AuditRepository['linkStats'];

/** Events by whole milliseconds from publication to stored (GET /audit/latency). */
export type LatencyRecord = ReturnType<RecorderMetrics['latencyRecord']>;

export function pipelineStats(consumer: AuditConsumer, repository: AuditRepository): PipelineStats {
  return { ...consumer.stats, ...repository.linkStats };
}

/** The process's counters: every pipeline's, added up. */
export function sumStats(all: PipelineStats[]): PipelineStats {
  const [first, ...rest] = all;
  const sum = { ...first };
  for (const stats of rest) {
    for (const key of Object.keys(sum) as (keyof PipelineStats)[]) sum[key] += stats[key];
  }
  return sum;
}

/** The process's latency record: every pipeline's events, counted together. */
export function mergeLatency(all: LatencyRecord[]): LatencyRecord {
  const ms: Record<string, number> = {};
  let beyond = 0;
  for (const record of all) {
    for (const [at, n] of Object.entries(record.ms)) ms[at] = (ms[at] ?? 0) + n;
    beyond += record.beyond;
  }
  return { ms, beyond, limitMs: all[0].limitMs };
}
