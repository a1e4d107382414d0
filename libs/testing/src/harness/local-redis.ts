import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './infra';
import { startLocalInfra } from './local-kafka';
import { waitFor } from './wait';

/**
 * The Redis that `infra/local/start.sh` runs, for tests that take it down the hard way: kill -9
 * (no clean shutdown, as in a crash) and start it again with the same script, which keeps its
 * append-only file.
 */
export class LocalRedis {
  private static pid(): number {
    const pid = Number(readFileSync(join(repoRoot(), '.local', 'redis', 'redis.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error('no Redis pid in .local/redis/redis.pid');
    return pid;
  }

  static async kill9(): Promise<void> {
    const pid = LocalRedis.pid();
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'Redis to die',
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 10_000 },
    );
  }

  /** kill -9, then infra/local/start.sh (which starts only what is down) and waits for it. */
  static async restart(): Promise<void> {
    await LocalRedis.kill9();
    await startLocalInfra();
  }
}
