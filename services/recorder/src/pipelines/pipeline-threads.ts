import type { Worker } from 'node:worker_threads';

/**
 * What the main thread asks a pipeline thread (pipeline.worker.ts): to join the group without
 * reading yet, to start reading, and its figures and health.
 */
export type PipelineAsk = 'join' | 'read' | 'stats' | 'latency' | 'metrics' | 'health';

/** Main thread → pipeline thread. */
export type ToPipeline = { type: 'ask'; id: number; what: PipelineAsk } | { type: 'stop' };

/** Pipeline thread → main thread. */
export type FromPipeline = { type: 'ready' } | { type: 'answer'; id: number; value?: unknown; error?: string };

/** How long an ask waits for its answer, unless it says otherwise. */
const ASK_TIMEOUT_MS = 5_000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** One pipeline thread as the main thread sees it. */
class PipelineThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private stopping = false;
  private ended = false;
  /** Resolves once the thread's pipeline is connected (not yet in the group); rejects if it fails or ends before. */
  readonly ready: Promise<void>;
  /** Resolves once the thread has ended, whatever the way. */
  readonly exited: Promise<void>;

  constructor(
    readonly index: number,
    private readonly worker: Worker,
    onFailure: (err: Error) => void,
  ) {
    let started = false;
    let readyResolve!: () => void;
    let readyReject!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    // Nobody may be waiting for `ready` yet when the thread fails: its rejection is reported there.
    this.ready.catch(() => undefined);
    let lastError: Error | undefined;
    worker.on('message', (message: FromPipeline) => {
      if (message.type === 'ready') {
        started = true;
        readyResolve();
      } else if (message.type === 'answer') {
        const p = this.pending.get(message.id);
        if (!p) return;
        this.pending.delete(message.id);
        clearTimeout(p.timer);
        if (message.error !== undefined) p.reject(new Error(message.error));
        else p.resolve(message.value);
      }
    });
    worker.on('error', (err) => {
      lastError = err;
    });
    this.exited = new Promise<void>((resolve) => {
      worker.on('exit', (code) => {
        this.ended = true;
        const why = lastError ?? new Error(`audit pipeline ${index} ended (exit code ${code})`);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new Error(`audit pipeline ${index} ended before it answered`));
        }
        this.pending.clear();
        if (!started) readyReject(why);
        else if (!this.stopping) onFailure(why);
        resolve();
      });
    });
  }

  ask(what: PipelineAsk, timeoutMs = ASK_TIMEOUT_MS): Promise<unknown> {
    if (this.ended) return Promise.reject(new Error(`audit pipeline ${this.index} has ended`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`audit pipeline ${this.index} did not answer ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.worker.postMessage({ type: 'ask', id, what } satisfies ToPipeline);
    });
  }

  /**
   * Asks the thread to store what it has read and end; ends it at once after `timeoutMs`.
   * Resolves true when it had to be ended so.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    if (this.ended) return false;
    this.worker.postMessage({ type: 'stop' } satisfies ToPipeline);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome !== 'late') return false;
    await this.worker.terminate();
    return true;
  }
}

/**
 * The audit pipelines a recorder runs on worker threads beside the one on its main thread. They
 * start together (the recorder starts only once every one has; `ready` means connected, not yet
 * in the group), answer the main thread's asks
 * (statistics, metrics, health) and stop together. A thread that fails or ends while the recorder
 * runs is reported to `onFailure`: the recorder then stops, and its supervisor starts it again,
 * rather than running on with fewer pipelines than it was given.
 */
export class PipelineThreads {
  private readonly threads: PipelineThread[] = [];

  /** `spawn(i)` starts the thread of pipeline i (1, 2, ...: the main thread's is 0). */
  constructor(
    private readonly count: number,
    private readonly spawn: (index: number) => Worker,
    private readonly onFailure: (err: Error) => void,
  ) {}

  /** Starts every thread and resolves once each runs its pipeline; otherwise ends them and rejects. */
  async start(): Promise<void> {
    for (let i = 1; i <= this.count; i++) this.threads.push(new PipelineThread(i, this.spawn(i), this.onFailure));
    const started = await Promise.allSettled(this.threads.map((t) => t.ready));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await this.stop(0);
      throw new Error(`an audit pipeline did not start: ${(failed.reason as Error).message}`);
    }
  }

  /** How many threads there are: pipelines 1 to `size`. */
  get size(): number {
    return this.threads.length;
  }

  /** One thread's answer (pipeline 1, 2, ...). */
  ask(pipeline: number, what: PipelineAsk): Promise<unknown> {
    const thread = this.threads[pipeline - 1];
    if (!thread) return Promise.reject(new Error(`there is no audit pipeline ${pipeline}`));
    return thread.ask(what);
  }

  /** Every thread's answer, in pipeline order. */
  askAll(what: PipelineAsk, timeoutMs?: number): Promise<unknown[]> {
    return Promise.all(this.threads.map((t) => t.ask(what, timeoutMs)));
  }

  /**
   * Has every thread store what it read and end, each within `timeoutMs`; resolves with the
   * pipelines that did not and were ended at once (what they read comes again to the group).
   */
  async stop(timeoutMs: number): Promise<number[]> {
    const forced = await Promise.all(this.threads.map((t) => t.stop(timeoutMs)));
    return this.threads.filter((_, i) => forced[i]).map((t) => t.index);
  }
}
