/**
 * Node.js flags each service is started with, wherever it runs: the container images (the
 * Dockerfile's CMD, checked against this by test/compose.spec.ts), scripts/up.sh and the test harness.
 *
 * The recorder holds every event of a window until its commit and allocates fast; with V8's
 * default the old generation starts small and its limit follows the live heap closely, so it
 * ran a full collection every 2–6 s at 2,000 events/s. Starting with room for 256 MB cut that to
 * two in a minute and its CPU per event by about a tenth (bench/results/audit-cost-model.md);
 * the chart's memory limit for the recorder (768 Mi) leaves room for it.
 */
export const SERVICE_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  recorder: ['--initial-old-space-size=256'],
};

/** The flags of one service (none when it has none). */
export function serviceNodeFlags(service: string): readonly string[] {
  return SERVICE_NODE_FLAGS[service] ?? [];
}
