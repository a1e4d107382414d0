import { Transform, type TransformCallback } from 'node:stream';
import { classifyContentType, SNIFF_BYTES, sniffBody, type BodyKind } from './content-type';
import { latin1 } from './json-string';
import { JsonChunkMasker, type ChunkMasker } from './json-stream';
import { engineOf, type MaskCounts, type Masker, type MaskingEngine } from './masker';
import { IncrementalTextMasker } from './text-stream';

class TextChunkMasker implements ChunkMasker {
  private readonly masker: IncrementalTextMasker;

  constructor(engine: MaskingEngine, counts: MaskCounts) {
    this.masker = new IncrementalTextMasker(engine, counts);
  }

  write(chunk: Buffer): Buffer[] {
    return bytes(this.masker.write(latin1(chunk, 0, chunk.length)));
  }

  end(): Buffer[] {
    return bytes(this.masker.end());
  }
}

class PassThroughMasker implements ChunkMasker {
  write(chunk: Buffer): Buffer[] {
    return [chunk];
  }

  end(): Buffer[] {
    return [];
  }
}

function bytes(text: string): Buffer[] {
  return text.length > 0 ? [Buffer.from(text, 'latin1')] : [];
}

/** Builds the masker for a kind of body. */
export function chunkMaskerFor(masker: Masker, kind: Exclude<BodyKind, 'sniff'>, counts: MaskCounts): ChunkMasker {
  if (!masker.enabled || kind === 'binary') return new PassThroughMasker();
  const engine = engineOf(masker);
  if (kind === 'json') return new JsonChunkMasker(engine, counts);
  // Field rules mean nothing in text; without detectors, text passes as it is.
  return engine.hasDetectors ? new TextChunkMasker(engine, counts) : new PassThroughMasker();
}

/** A masking transform: bytes in, masked bytes out, counts per rule complete at its end. */
export class MaskingStream extends Transform {
  /** Values masked so far, per rule; complete once the stream has ended. */
  readonly counts: MaskCounts = {};
  private body: ChunkMasker | null = null;
  private head: Buffer[] = [];
  private headBytes = 0;

  constructor(
    private readonly masker: Masker,
    kind: BodyKind,
  ) {
    super();
    if (kind !== 'sniff' || !masker.enabled) {
      this.body = chunkMaskerFor(masker, kind === 'sniff' ? 'binary' : kind, this.counts);
    }
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
      if (this.body === null) {
        this.head.push(buf);
        this.headBytes += buf.length;
        if (this.headBytes < SNIFF_BYTES) return callback();
        const head = this.takeHead();
        this.pushAll(this.decide(head).write(head));
        return callback();
      }
      this.pushAll(this.body.write(buf));
      callback();
    } catch (err) {
      // Never let unmasked bytes through after a fault: the response fails instead.
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      let body = this.body;
      if (body === null) {
        const head = this.takeHead();
        body = this.decide(head);
        if (head.length > 0) this.pushAll(body.write(head));
      }
      this.pushAll(body.end());
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private takeHead(): Buffer {
    const head = this.head.length === 1 ? this.head[0] : Buffer.concat(this.head);
    this.head = [];
    return head;
  }

  private decide(head: Buffer): ChunkMasker {
    this.body = chunkMaskerFor(this.masker, sniffBody(head.subarray(0, SNIFF_BYTES)), this.counts);
    return this.body;
  }

  private pushAll(pieces: Buffer[]): void {
    if (pieces.length === 1) {
      if (pieces[0].length > 0) this.push(pieces[0]);
    } else if (pieces.length > 1) {
      this.push(Buffer.concat(pieces));
    }
  }
}

/**
 * A transform that masks a response body on its way to the client, chosen by content type:
 * JSON (`application/json`, `+json`, JSON lines) through the streaming JSON masker, text types
 * through the windowed text masker, binary types untouched; without a content type (or with an
 * unfamiliar one) the first bytes decide. Memory stays bounded whatever the body's size.
 *
 * The body must not be compressed: decode it first (or refuse it), since compressed bytes cannot
 * be inspected.
 */
export function createMaskingStream(
  masker: Masker,
  contentType: string | undefined,
): Transform & { counts: Record<string, number> } {
  return new MaskingStream(masker, classifyContentType(contentType));
}
