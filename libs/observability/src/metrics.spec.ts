import { Counter, Histogram, Registry } from 'prom-client';
import { addMetricsSource, scrapeMetrics } from './cluster-metrics';
import { counter, gauge, histogram, metricsRegistry } from './metrics';
import { injectTraceHeaders, tracingEnabled } from './tracing';

describe('the shared metrics registry', () => {
  it('serves counters, gauges and histograms in the Prometheus text format', async () => {
    const c = counter({ name: 'airlock_test_ops_total', help: 'ops', labelNames: ['protocol', 'outcome'] as const });
    c.labels('http', 'completed').inc();
    c.labels('http', 'completed').inc(2);
    c.labels('postgres', 'failed').inc();
    const g = gauge({ name: 'airlock_test_open', help: 'open', labelNames: ['connection'] as const });
    g.labels('db').inc();
    g.labels('db').inc();
    g.labels('db').dec();
    const h = histogram({ name: 'airlock_test_seconds', help: 'time', buckets: [0.01, 0.1] });
    h.observe(0.005);
    h.observe(0.05);
    h.observe(3);
    const text = await metricsRegistry.metrics();
    expect(text).toContain('# TYPE airlock_test_ops_total counter\n');
    expect(text).toContain('airlock_test_ops_total{protocol="http",outcome="completed"} 3\n');
    expect(text).toContain('airlock_test_ops_total{protocol="postgres",outcome="failed"} 1\n');
    expect(text).toContain('airlock_test_open{connection="db"} 1\n');
    expect(text).toContain('airlock_test_seconds_bucket{le="0.01"} 1\n');
    expect(text).toContain('airlock_test_seconds_bucket{le="0.1"} 2\n');
    expect(text).toContain('airlock_test_seconds_bucket{le="+Inf"} 3\n');
    expect(text).toContain('airlock_test_seconds_sum 3.055\n');
    expect(text).toContain('airlock_test_seconds_count 3\n');
  });

  it('hands out one child per label set, and one series per name', () => {
    const c = counter({ name: 'airlock_test_children_total', help: 'x', labelNames: ['a', 'b', 'c', 'd'] as const });
    expect(c.labels('1', '2', '3', '4')).toBe(c.labels('1', '2', '3', '4'));
    expect(c.labels('1', '2', '3', '4')).not.toBe(c.labels('1', '2', '3', '5'));
    expect(counter({ name: 'airlock_test_children_total', help: 'x', labelNames: ['a'] as const })).toBe(c);
    expect(() =>
      counter({ name: 'airlock_test_many_total', help: 'x', labelNames: ['a', 'b', 'c', 'd', 'e'] }),
    ).toThrow(/at most four labels/);
  });

  it('shows a series without labels at 0 before anything is counted', async () => {
    counter({ name: 'airlock_test_untouched_total', help: 'x' });
    expect(await metricsRegistry.metrics()).toContain('airlock_test_untouched_total 0\n');
  });
});

describe('a scrape of a process with metrics sources (worker threads)', () => {
  it("sums each source's series with the process's own, and stops once the source is taken out", async () => {
    counter({ name: 'airlock_test_threads_total', help: 'x', labelNames: ['partition'] as const })
      .labels('0')
      .inc(2);
    const thread = new Registry();
    new Counter({ name: 'airlock_test_threads_total', help: 'x', labelNames: ['partition'], registers: [thread] })
      .labels('0')
      .inc(3);
    const seconds = new Histogram({
      name: 'airlock_test_thread_seconds',
      help: 'x',
      buckets: [1],
      registers: [thread],
    });
    seconds.observe(0.5);
    seconds.observe(2);
    const remove = addMetricsSource(() => thread.getMetricsAsJSON());
    const text = await scrapeMetrics();
    expect(text).toContain('airlock_test_threads_total{partition="0"} 5\n');
    expect(text).toContain('airlock_test_thread_seconds_bucket{le="1"} 1\n');
    expect(text).toContain('airlock_test_thread_seconds_count 2\n');
    remove();
    const alone = await scrapeMetrics();
    expect(alone).toContain('airlock_test_threads_total{partition="0"} 2\n');
    expect(alone).not.toContain('airlock_test_thread_seconds');
  });
});

describe('tracing, when no endpoint is configured', () => {
  it('is off and adds no header', () => {
    expect(tracingEnabled()).toBe(false);
    const headers: Record<string, string> = { a: '1' };
    injectTraceHeaders(headers);
    expect(headers).toEqual({ a: '1' });
  });
});
