import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import { JsonChunkMasker, type ChunkMasker } from '../src/json-stream';
import { engineOf, type MaskCounts, type Masker } from '../src/masker';
import { IncrementalTextMasker } from '../src/text-stream';

export interface Masked {
  out: Buffer;
  counts: MaskCounts;
}

/** Feeds chunks to a chunk masker synchronously and joins what it gives back. */
export function drive(body: ChunkMasker, chunks: readonly Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const chunk of chunks) out.push(...body.write(chunk));
  out.push(...body.end());
  return Buffer.concat(out);
}

export function maskJsonChunks(masker: Masker, chunks: readonly Buffer[]): Masked {
  const counts: MaskCounts = {};
  return { out: drive(new JsonChunkMasker(engineOf(masker), counts), chunks), counts };
}

/** Text masking in pieces, on latin1 strings as the text stream does it. */
export function maskTextPieces(
  masker: Masker,
  pieces: readonly string[],
  options?: { window?: number; context?: number; step?: number },
): { text: string; counts: MaskCounts } {
  const counts: MaskCounts = {};
  const m = new IncrementalTextMasker(engineOf(masker), counts, options);
  let text = '';
  for (const p of pieces) text += m.write(p);
  return { text: text + m.end(), counts };
}

/** Splits a buffer at the given offsets. */
export function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    out.push(buf.subarray(from, cut));
    from = cut;
  }
  out.push(buf.subarray(from));
  return out;
}

/** Runs chunks through a real stream pipeline and collects the output. */
export async function throughStream(
  stream: Transform & { counts: MaskCounts },
  chunks: readonly Buffer[],
): Promise<Masked> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks, { objectMode: false }),
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return { out: Buffer.concat(out), counts: { ...stream.counts } };
}
