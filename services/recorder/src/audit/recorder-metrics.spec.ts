import { uuidv7At } from '@airlock/testing';
import { RecorderMetrics } from './recorder-metrics';

describe('the recorder metrics', () => {
  it('counts what windows stored, their sizes, lag and the latency from the time in each id', async () => {
    const m = new RecorderMetrics();
    const now = Date.parse('2026-03-01T12:00:00.000Z');
    m.clock = () => now;
    m.sawHighWatermark(3, '120');
    m.windowStored(
      3,
      [{ stored: 2, deadLettered: 1, redelivered: 0, duplicates: 0 }],
      [uuidv7At(now - 7), uuidv7At(now - 300)],
      [{ partition: 3, next: '100' }],
    );
    const text = await m.text();
    expect(text).toContain('airlock_recorder_events_stored_total 2\n');
    expect(text).toContain('airlock_recorder_events_deadlettered_total 1\n');
    expect(text).toContain('airlock_recorder_batches_total 1\n');
    expect(text).toContain('airlock_recorder_batch_size_bucket{le="1"} 0\n');
    expect(text).toContain('airlock_recorder_batch_size_bucket{le="10"} 1\n');
    expect(text).toContain('airlock_recorder_event_latency_seconds_bucket{le="0.01"} 1\n');
    expect(text).toContain('airlock_recorder_event_latency_seconds_bucket{le="0.5"} 2\n');
    expect(text).toContain('airlock_recorder_lag_messages{partition="3"} 20\n');
    expect(m.latencyRecord()).toEqual({ ms: { 7: 1, 300: 1 }, beyond: 0, limitMs: 60_000 });
  });

  it('counts latencies past the exact record apart', async () => {
    const m = new RecorderMetrics();
    const now = Date.parse('2026-03-01T12:00:00.000Z');
    m.clock = () => now;
    m.windowStored(1, [{ stored: 1, deadLettered: 0, redelivered: 0, duplicates: 0 }], [uuidv7At(now - 90_000)], []);
    expect(m.latencyRecord()).toEqual({ ms: {}, beyond: 1, limitMs: 60_000 });
    expect(await m.text()).toContain('airlock_recorder_event_latency_seconds_bucket{le="60"} 0\n');
  });

  it('reports the lag of the partitions this pipeline holds only, once the group has been rebalanced', async () => {
    const m = new RecorderMetrics();
    for (const p of [0, 1, 2]) {
      m.sawHighWatermark(p, '50');
      m.windowStored(1, [], [], [{ partition: p, next: '40' }]);
    }
    m.assigned([1, 2, 5]);
    m.assigned([2, 5]);
    const text = await m.text();
    expect(text).not.toContain('airlock_recorder_lag_messages{partition="0"}');
    expect(text).not.toContain('airlock_recorder_lag_messages{partition="1"}');
    expect(text).toContain('airlock_recorder_lag_messages{partition="2"} 10\n');
  });
});
