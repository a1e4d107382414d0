import { youngGenerationMb } from './audit-pipelines';
import { mergeLatency, sumStats, type PipelineStats } from './pipeline-reports';

const stats = (n: number): PipelineStats => ({
  received: n,
  stored: 2 * n,
  rejected: 0,
  deadLettered: 1,
  redelivered: n,
  duplicates: 0,
  batches: 3,
  decodeMs: 0.5,
  storeMs: n,
  commitMs: 1,
  linkedAhead: n,
  linkedAgain: 0,
});

describe("the process's figures from its pipelines'", () => {
  it('adds up every counter of every pipeline', () => {
    expect(sumStats([stats(1), stats(10), stats(100)])).toEqual({
      received: 111,
      stored: 222,
      rejected: 0,
      deadLettered: 3,
      redelivered: 111,
      duplicates: 0,
      batches: 9,
      decodeMs: 1.5,
      storeMs: 111,
      commitMs: 3,
      linkedAhead: 111,
      linkedAgain: 0,
    });
    expect(sumStats([stats(7)])).toEqual(stats(7));
  });

  it('counts the events of every pipeline per millisecond of latency', () => {
    expect(
      mergeLatency([
        { ms: { 3: 2, 250: 1 }, beyond: 1, limitMs: 60_000 },
        { ms: { 3: 5, 12: 4 }, beyond: 0, limitMs: 60_000 },
      ]),
    ).toEqual({ ms: { 3: 7, 12: 4, 250: 1 }, beyond: 1, limitMs: 60_000 });
  });

  it("gives a pipeline thread the young generation of the process's semi-space flag", () => {
    expect(youngGenerationMb(['--initial-old-space-size=256', '--max-semi-space-size=64'])).toBe(192);
    expect(youngGenerationMb(['--max_semi_space_size=16'])).toBe(48);
    expect(youngGenerationMb(['--cpu-prof'])).toBeUndefined();
  });
});
