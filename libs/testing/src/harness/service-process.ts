import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, serviceKafkaEnv } from './infra';
import { allowTestGroups } from './kafka';
import { serviceSigningEnv } from './signing';
import { waitFor } from './wait';

export type ServiceName = 'ingress-proxy' | 'policy' | 'approval' | 'recorder' | 'credential-vault';

/**
 * The service's own Node flags (libs/runtime/src/node-flags.ts), read from the build it runs, as
 * scripts/up.sh reads them: importing @airlock/runtime here would load Nest into every test file.
 */
function serviceNodeFlags(root: string, name: ServiceName): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a compiled file of the build, chosen at run time
  const flags = require(join(root, 'dist', 'libs', 'runtime', 'src', 'node-flags.js')) as {
    serviceNodeFlags(service: string): readonly string[];
  };
  return [...flags.serviceNodeFlags(name)];
}

/**
 * One Airlock service running as its own process from the compiled build (`npm run build`),
 * so a test can stop it, kill it and start it again, and read what it logged.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  private output = '';
  private logFile?: WriteStream;
  private exitCode: number | null = null;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    /** More Node flags for the service process (e.g. `--cpu-prof` to profile it in a benchmark), after its own. */
    private readonly nodeArgs: string[] = [],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get logs(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === null;
  }

  async start({ healthTimeoutMs = 60000 }: { healthTimeoutMs?: number } = {}): Promise<this> {
    const root = repoRoot();
    const entry = join(root, 'dist', 'services', this.name, 'src', 'main.js');
    const logDir = join(root, '.local', 'logs', 'test');
    mkdirSync(logDir, { recursive: true });
    this.logFile = createWriteStream(join(logDir, `${this.name}-${this.port}.log`), { flags: 'a' });
    this.exitCode = null;
    const groupPrefix = this.env.KAFKA_GROUP_PREFIX;
    if (groupPrefix && groupPrefix !== 'airlock') await allowTestGroups(this.name, groupPrefix);
    const child = spawn(process.execPath, [...serviceNodeFlags(root, this.name), ...this.nodeArgs, entry], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HTTP_PORT: String(this.port),
        LOG_LEVEL: 'info',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        // Every service logs in to Kafka as its own principal unless the test says otherwise.
        ...serviceKafkaEnv(this.name),
        // ...and signs with a key of this test run, trusted by the others.
        ...serviceSigningEnv(this.name),
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const collect = (chunk: Buffer): void => {
      this.output += chunk.toString();
      this.logFile?.write(chunk);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) => (this.exitCode = code ?? (signal ? 128 : 1)));
    const outcome = await waitFor(
      `${this.name} to be healthy on ${this.url}`,
      async () => {
        // An exit ends the wait at once (an error thrown here would only be retried).
        if (this.exitCode !== null) return 'exited';
        const res = await fetch(`${this.url}/health`).catch(() => undefined);
        return res?.status === 200 ? 'healthy' : undefined;
      },
      { timeoutMs: healthTimeoutMs, intervalMs: 200 },
    ).catch((err: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${err.message}\n--- ${this.name} output ---\n${this.output.slice(-4000)}`);
    });
    if (outcome === 'exited') {
      throw new Error(`${this.name} exited with ${this.exitCode}:\n${this.output.slice(-4000)}`);
    }
    return this;
  }

  /** Graceful stop (SIGTERM), SIGKILL if it has not exited within the deadline. */
  async stop(deadlineMs = 10000): Promise<void> {
    await this.signal('SIGTERM', deadlineMs);
  }

  /** Kill -9: no shutdown hooks, nothing flushed. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 5000);
  }

  /** Freezes the process (SIGSTOP): it holds its connections but answers nothing until resume(). */
  pause(): void {
    if (!this.running) throw new Error(`${this.name} is not running`);
    this.child?.kill('SIGSTOP');
  }

  /** Lets a paused process go on (SIGCONT). */
  resume(): void {
    if (this.running) this.child?.kill('SIGCONT');
  }

  private async signal(sig: NodeJS.Signals, deadlineMs: number): Promise<void> {
    const child = this.child;
    if (!child || this.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(sig);
    // A paused process would act on SIGTERM only once it runs again.
    if (sig !== 'SIGKILL') child.kill('SIGCONT');
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    await exited;
    clearTimeout(timer);
    this.logFile?.end();
  }
}
