import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Masker, createMaskingStream, resolveMaskingRules } from './index';
import { Fakes, Rng } from '../test/fakes';

const MiB = 1024 * 1024;

describe('streaming memory', () => {
  it('masks a 200 MB JSON stream with bounded memory', async () => {
    const fakes = new Fakes(new Rng(77));
    const records: string[] = [];
    let secrets = 0;
    let size = 0;
    for (let i = 0; size < MiB; i++) {
      const planted = i % 50 === 0;
      if (planted) secrets += 2;
      records.push(
        JSON.stringify({
          id: i,
          name: `user ${i}`,
          tags: ['a', 'b', { deep: [i, i + 1] }],
          note: planted ? `rotated ${fakes.github()} today` : 'nothing to see',
          ...(planted ? { password: { old: 'x', new: 'y' } } : {}),
        }),
      );
      size += records[records.length - 1].length + 1;
    }
    const block = Buffer.from(`${records.join(',')},`);
    // A huge string value and a huge masked field value, neither of which may be held whole.
    const long = Buffer.from(
      `{"log": "${'x'.repeat(20 * MiB)} ${fakes.github()} ${'y'.repeat(MiB)}"},{"secret": "${'z'.repeat(20 * MiB)}"},`,
    );
    const blocks = 160;
    const total = blocks * block.length + long.length;

    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from('[');
      for (let b = 0; b < blocks; b++) {
        if (b === blocks / 2) for (let i = 0; i < long.length; i += 64 * 1024) yield long.subarray(i, i + 64 * 1024);
        for (let i = 0; i < block.length; i += 64 * 1024) yield block.subarray(i, i + 64 * 1024);
      }
      yield Buffer.from('{}]');
    }

    const masker = new Masker(resolveMaskingRules(['secrets']));
    const stream = createMaskingStream(masker, 'application/json');
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let outBytes = 0;
    let writes = 0;
    let tail = '';
    await pipeline(
      Readable.from(body()),
      stream,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          outBytes += chunk.length;
          tail = (tail + chunk.toString('latin1')).slice(-16);
          if (++writes % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
          callback();
        },
      }),
    );
    peak = Math.max(peak, process.memoryUsage().rss);

    expect(total).toBeGreaterThan(200 * 1_000_000);
    expect(stream.counts).toEqual({
      'github-token': (secrets / 2) * blocks + 1,
      'field:password': (secrets / 2) * blocks,
      'field:secret': 1,
    });
    expect(tail.endsWith('{}]')).toBe(true);
    expect(outBytes).toBeLessThan(total);
    expect(peak - baseline).toBeLessThan(100 * MiB);
  }, 60_000);
});
