import Redis from 'ioredis';

/** PING over a lazily opened connection; the health check of the queue backend. */
export function redisHealthCheck(url: string): { name: string; check(): Promise<void>; close(): Promise<void> } {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined); // reported through check()
  return {
    name: 'redis',
    async check() {
      if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected answer ${pong}`);
    },
    async close() {
      redis.disconnect();
    },
  };
}
