import type { BackoffOptions, BackoffStrategy } from 'bullmq';

/** The job's `backoff.type`; the worker's strategy below serves it. */
export const NOTIFY_BACKOFF_TYPE = 'exponential-equal-jitter';

/** No wait between two attempts is longer than this, however many there are. */
export const MAX_BACKOFF_MS = 15 * 60_000;

/**
 * The wait before retry `retry` (1 for the first): exponential from `baseMs`, capped, with equal
 * jitter. The random half spreads the retries of many notifications that failed together (a
 * webhook outage) so they do not come back in one burst; the fixed half keeps a retry from
 * following its failure at once, as full jitter would allow.
 */
export function retryDelay(
  retry: number,
  baseMs: number,
  random: () => number = Math.random,
  maxMs: number = MAX_BACKOFF_MS,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}

export function notifyBackoff(baseMs: number): BackoffOptions {
  return { type: NOTIFY_BACKOFF_TYPE, delay: baseMs };
}

/**
 * The worker's `settings.backoffStrategy`. BullMQ passes the number of the coming retry; the
 * base delay is the one the job was queued with, or `fallbackBaseMs` for a job without one.
 */
export function notifyBackoffStrategy(fallbackBaseMs: number, random: () => number = Math.random): BackoffStrategy {
  return (attemptsMade, _type, _err, job) => {
    const backoff = job?.opts.backoff;
    const base = typeof backoff === 'object' && typeof backoff.delay === 'number' ? backoff.delay : fallbackBaseMs;
    return retryDelay(attemptsMade, base, random);
  };
}
