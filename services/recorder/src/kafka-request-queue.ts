/**
 * kafkajs 2.2.4 keeps a timer per broker connection that re-arms itself every millisecond once
 * the connection has answered a request, whether or not anything waits to be sent
 * (`RequestQueue.scheduleCheckPendingRequests` computes a negative delay when the connection was
 * never throttled, and re-schedules itself unconditionally). Every client of this process thus
 * wakes the event loop about a thousand times a second per connection: most of what an idle
 * recorder spent, and a share of every event's cost under load.
 *
 * The check is only needed when requests wait in the queue: a request that can be sent goes out at
 * once, one held back by the in-flight limit goes out when an answer arrives (`fulfillRequest`
 * checks the queue), and one held back by broker throttling needs the timer until the throttle
 * ends. So the timer is armed only while requests wait, at the end of the throttle or else after
 * kafkajs's own check interval. The project is in maintenance and this is not fixed upstream.
 */

/** The part of kafkajs's RequestQueue this relies on. */
interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's interval between two checks of a queue held back by the in-flight limit. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

const PATCHED = Symbol.for('airlock.kafkajs.requestQueue.idleTimer');

/**
 * Replaces `scheduleCheckPendingRequests` on a RequestQueue class (kafkajs's by default). Returns
 * false, changing nothing, when the class does not have the shape this was written for.
 */
export function stopIdleRequestQueueTimers(queueClass: unknown = loadRequestQueue()): boolean {
  const proto = (queueClass as { prototype?: Record<PropertyKey, unknown> } | undefined)?.prototype;
  if (!proto || typeof proto.scheduleCheckPendingRequests !== 'function') return false;
  if (typeof proto.checkPendingRequests !== 'function') return false;
  if (proto[PATCHED]) return true;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueLike): void {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const throttled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      throttled > 0 ? throttled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
    );
  };
  proto[PATCHED] = true;
  return true;
}

function loadRequestQueue(): unknown {
  try {
    // Not part of kafkajs's public surface: resolved at run time, and left alone if it moved.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('kafkajs/src/network/requestQueue');
  } catch {
    return undefined;
  }
}
