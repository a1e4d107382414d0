/**
 * Node.js flags each service is started with, wherever it runs: the container images (the
 * Dockerfile's CMD, checked against this by test/compose.spec.ts), scripts/up.sh and the test harness.
 *
 * The recorder holds every event of a window until its commit and allocates fast:
 *
 * - With V8's default the old generation starts small and its limit follows the live heap
 *   closely, so it ran a full collection every 2–6 s at 2,000 events/s. Starting with room for
 *   256 MB cut that to two in a minute.
 * - With V8's default young generation (16 MB semi-spaces) a scavenge came every half second at
 *   2,000 events/s, while a third of what it found was still alive (the events of the windows
 *   not yet stored) and had to be copied: scavenges took about a sixth of the recorder's CPU.
 *   64 MB semi-spaces make them about 3.5 times rarer, each finding about as much alive, so they
 *   take about a quarter of the time (bench/results/audit-cost-model.md).
 *
 * Its resident size, read from /proc in the middle of the runs, was 322–326 MB at 2,000 events/s
 * and 540–665 MB saturated (a window of tens of thousands of events, two waiting, and the young
 * generation): the chart lets the recorder have 1 GiB.
 */
export const SERVICE_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  recorder: ['--initial-old-space-size=256', '--max-semi-space-size=64'],
};

/** The flags of one service (none when it has none). */
export function serviceNodeFlags(service: string): readonly string[] {
  return SERVICE_NODE_FLAGS[service] ?? [];
}
