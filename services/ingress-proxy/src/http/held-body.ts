import type { Readable } from 'node:stream';

/** The body is larger than a held request may keep in memory. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a request body into memory, up to `maxBytes`. A held request is forwarded only after a
 * person approved it, and the approval covers exactly the bytes that were shown, so the body
 * cannot stay a stream. A declared length over the limit is refused before reading; a body that
 * grows past it is left to drain (not destroyed: the socket must still carry the refusal).
 */
export function readBodyWithin(body: Readable, maxBytes: number, declaredLength?: string): Promise<Buffer> {
  if (declaredLength !== undefined && Number(declaredLength) > maxBytes) {
    return Promise.reject(new BodyTooLargeError(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > maxBytes) {
        cleanup();
        chunks.length = 0;
        body.resume();
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(b);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the request body ended before it was complete'));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}

/**
 * Bounds what requests held for approval keep in this process: how many wait at once, and the
 * bytes of their bodies together. A person may take minutes to decide; without a bound, agents
 * could pile up held requests until memory runs out.
 */
export class HeldBudget {
  private requests = 0;
  private bytes = 0;

  constructor(
    private readonly maxRequests: number,
    private readonly maxBytes: number,
  ) {}

  /** Takes a place for one held request; false when every place is taken. */
  enter(): boolean {
    if (this.requests >= this.maxRequests) return false;
    this.requests++;
    return true;
  }

  /** Counts a held body; false (nothing counted) when the bodies together would pass the limit. */
  keep(bytes: number): boolean {
    if (this.bytes + bytes > this.maxBytes) return false;
    this.bytes += bytes;
    return true;
  }

  /** Gives back a place and the bytes it kept. */
  leave(keptBytes: number): void {
    this.requests--;
    this.bytes -= keptBytes;
  }

  get held(): { requests: number; bytes: number } {
    return { requests: this.requests, bytes: this.bytes };
  }
}
