import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './infra';
import { waitFor } from './wait';

/**
 * The broker that `infra/local/start.sh` runs, for tests that take it down the hard way: kill -9
 * (no clean shutdown, as in a crash) and start it again with the same script.
 */
export class LocalKafka {
  private static pid(): number {
    const pid = Number(readFileSync(join(repoRoot(), '.local', 'kafka', 'kafka.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error('no Kafka pid in .local/kafka/kafka.pid');
    return pid;
  }

  private static alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  static async kill9(): Promise<void> {
    const pid = LocalKafka.pid();
    process.kill(pid, 'SIGKILL');
    await waitFor('the Kafka broker to die', async () => !LocalKafka.alive(pid) || undefined, { timeoutMs: 10_000 });
  }

  /** Runs infra/local/start.sh (idempotent: only what is down is started) and waits for it. */
  static start(): Promise<void> {
    return startLocalInfra();
  }
}

/** Runs infra/local/start.sh, which starts whatever of Kafka, PostgreSQL and Redis is down, and waits for it. */
export async function startLocalInfra(): Promise<void> {
  const root = repoRoot();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [join(root, 'infra', 'local', 'start.sh')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`infra/local/start.sh exited with ${code}:\n${output.slice(-3000)}`)),
    );
  });
}
