/**
 * kafkajs 2.2.4 re-arms a timer after every check of a connection's pending requests, even when
 * nothing is pending and nothing is throttled; the delay it computes is then negative, which
 * Node.js runs as 1 ms. Every broker connection of every client so wakes its process about a
 * thousand times a second for as long as it lives (one idle queue armed 439 timers in 500 ms),
 * which was most of what an idle service spent and a share of every busy one.
 *
 * `quietRequestQueues` replaces that scheduling on kafkajs's RequestQueue: a check is armed only
 * while requests wait — for the end of a client-side throttle, or at the library's own 10 ms
 * interval while they wait for an in-flight slot (a reply that frees one checks the queue at
 * once anyway). A request that arrives later is checked when it is pushed, as before.
 */

/** The part of kafkajs's RequestQueue the replacement touches. */
export interface RequestQueueTimerState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
}

/** kafkajs's own interval for requests waiting for an in-flight slot. */
const CHECK_PENDING_INTERVAL_MS = 10;

/** The scheduling: arms a check only while something waits. */
export function scheduleCheckPendingRequests(this: RequestQueueTimerState): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttledFor = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttledFor > 0 ? throttledFor : CHECK_PENDING_INTERVAL_MS,
  );
}

let applied = false;

/** Applies the scheduling to kafkajs (once per process; later calls do nothing). */
export function quietRequestQueues(): void {
  if (applied) return;
  // kafkajs exports no hook for this; its module is the one every client of the process uses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: Record<string, unknown> };
  applied = true;
  if (typeof RequestQueue.prototype.scheduleCheckPendingRequests !== 'function') {
    process.emitWarning('kafkajs RequestQueue has changed shape: its check timers are left as they are');
    return;
  }
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
}
