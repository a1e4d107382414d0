import { MAX_BACKOFF_MS, notifyBackoff, notifyBackoffStrategy, retryDelay } from './backoff';

describe('notification retry backoff', () => {
  it('doubles per retry and keeps at least half of it (equal jitter)', () => {
    for (let retry = 1; retry <= 8; retry++) {
      const ceiling = 1000 * 2 ** (retry - 1);
      expect(retryDelay(retry, 1000, () => 0)).toBe(ceiling / 2);
      expect(retryDelay(retry, 1000, () => 0.999999)).toBeLessThanOrEqual(ceiling);
      expect(retryDelay(retry, 1000, () => 0.999999)).toBeGreaterThan(ceiling * 0.99);
    }
  });

  it('stays within [ceiling/2, ceiling] for any random draw', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) {
      const retry = 1 + (i % 12);
      const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (retry - 1));
      const d = retryDelay(retry, 500, random);
      expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });

  it('is capped however many retries there are', () => {
    expect(retryDelay(50, 1000, () => 0.999999)).toBeLessThanOrEqual(MAX_BACKOFF_MS);
    expect(retryDelay(50, 1000, () => 0)).toBe(MAX_BACKOFF_MS / 2);
  });

  it('spreads retries of notifications that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelay(3, 1000)));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('as the worker strategy, uses the delay the job was queued with', async () => {
    const strategy = notifyBackoffStrategy(1000, () => 0);
    const job = { opts: { backoff: notifyBackoff(200) } } as Parameters<typeof strategy>[3];
    expect(await strategy(1, 'exponential-equal-jitter', new Error('x'), job)).toBe(100);
    expect(await strategy(3, 'exponential-equal-jitter', new Error('x'), job)).toBe(400);
    expect(await strategy(2, 'exponential-equal-jitter', new Error('x'), undefined)).toBe(1000);
  });
});
