import type { Logger } from '@nestjs/common';
import Redis from 'ioredis';

/** How often a connection that keeps failing is reported: once, then at most this often. */
const REPORT_EVERY_MS = 30_000;

export interface ConnectionReporter {
  error(err: Error): void;
  ready(): void;
}

/**
 * Logs an outage once and then now and again, and its end once; never throws. One reporter
 * serves a connection and the BullMQ object on it, which repeats the connection's errors.
 */
export function connectionReporter(logger: Logger, what: string): ConnectionReporter {
  let down = false;
  let reportedAt = 0;
  return {
    error(err) {
      const now = Date.now();
      if (!down || now - reportedAt >= REPORT_EVERY_MS) {
        logger.warn({ err: err.message }, `${what}: Redis error; retrying`);
        reportedAt = now;
      }
      down = true;
    },
    ready() {
      if (down) logger.log(`${what}: Redis connection restored`);
      down = false;
    },
  };
}

/**
 * A Redis connection for BullMQ that reconnects for as long as the process lives, so a Redis
 * restart pauses notifications instead of ending them. Workers need `maxRetriesPerRequest:
 * null` (their blocking commands must wait out an outage); a queue that callers add to gets a
 * bounded retry, so adding fails rather than hangs while Redis is away.
 */
export function bullRedis(url: string, role: 'queue' | 'worker', reporter: ConnectionReporter): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    retryStrategy: (times) => Math.min(200 * times, 5000),
    connectionName: `airlock-approval-notification-${role}`,
  });
  redis.on('error', (err: Error) => reporter.error(err));
  redis.on('ready', () => reporter.ready());
  return redis;
}

/** QUIT when Redis answers, else drop the socket: shutdown never waits on an outage. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  await redis.quit().catch(() => redis.disconnect());
}
