import { Worker } from 'node:worker_threads';
import { PipelineThreads } from './pipeline-threads';

/**
 * A stand-in pipeline thread speaking the same messages as pipeline.worker.ts, told by its
 * workerData how to behave: `fail` before it is ready, `crash` after it answered once, or `stubborn`
 * (ignores stop). It answers every ask with its pipeline number and the ask.
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { pipeline, behaviour } = workerData;
if (behaviour === 'fail') throw new Error('no store for pipeline ' + pipeline);
let asked = 0;
parentPort.on('message', (m) => {
  if (m.type === 'ask') {
    parentPort.postMessage({ type: 'answer', id: m.id, value: { pipeline, what: m.what } });
    if (behaviour === 'crash' && ++asked === 1) setTimeout(() => { throw new Error('pipeline ' + pipeline + ' broke'); }, 10);
  } else if (m.type === 'stop' && behaviour !== 'stubborn') {
    setTimeout(() => process.exit(0), 50);
  }
});
setTimeout(() => parentPort.postMessage({ type: 'ready' }), 20 * pipeline);
`;

function threads(behaviours: string[], onFailure: (err: Error) => void = () => undefined): PipelineThreads {
  return new PipelineThreads(
    behaviours.length,
    (pipeline) => new Worker(THREAD, { eval: true, workerData: { pipeline, behaviour: behaviours[pipeline - 1] } }),
    onFailure,
  );
}

describe('pipeline threads', () => {
  it('starts every thread, hears each one in pipeline order, and stops them all', async () => {
    const failures: Error[] = [];
    const t = threads(['ok', 'ok', 'ok'], (err) => failures.push(err));
    await t.start();
    expect(t.size).toBe(3);
    expect(await t.askAll('stats')).toEqual([1, 2, 3].map((pipeline) => ({ pipeline, what: 'stats' })));
    expect(await t.ask(2, 'health')).toEqual({ pipeline: 2, what: 'health' });
    await expect(t.ask(4, 'health')).rejects.toThrow('there is no audit pipeline 4');
    expect(await t.stop(5_000)).toEqual([]);
    await expect(t.ask(1, 'stats')).rejects.toThrow('audit pipeline 1 has ended');
    expect(failures).toEqual([]);
  });

  it('does not start when a thread fails to, names its error, and ends the others', async () => {
    const failures: Error[] = [];
    const t = threads(['ok', 'fail'], (err) => failures.push(err));
    await expect(t.start()).rejects.toThrow('an audit pipeline did not start: no store for pipeline 2');
    await expect(t.ask(1, 'stats')).rejects.toThrow('audit pipeline 1 has ended');
    expect(failures).toEqual([]);
  });

  it('reports a thread that fails while running, and its asks fail', async () => {
    let failed!: (err: Error) => void;
    const failure = new Promise<Error>((resolve) => (failed = resolve));
    const t = threads(['ok', 'crash'], failed);
    await t.start();
    await t.ask(2, 'stats');
    expect((await failure).message).toBe('pipeline 2 broke');
    await expect(t.ask(2, 'stats')).rejects.toThrow('audit pipeline 2 has ended');
    await t.stop(5_000);
  });

  it('ends a thread that does not stop within the time it is given, and does not call that a failure', async () => {
    const failures: Error[] = [];
    const t = threads(['stubborn'], (err) => failures.push(err));
    await t.start();
    const began = Date.now();
    expect(await t.stop(300)).toEqual([1]);
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
    await expect(t.ask(1, 'stats')).rejects.toThrow('has ended');
    expect(failures).toEqual([]);
  });
});
