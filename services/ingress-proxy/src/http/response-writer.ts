import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/** Statuses whose responses carry no body (RFC 9110), so no Content-Length is added to them. */
const NO_BODY = new Set([204, 304]);

/**
 * Writes an upstream's response to the agent: headers, then the body as it streams. The chunk
 * read last is held until the next one arrives, the body ends, or the event loop turns, so that
 * the end of the response leaves in the same write as the last chunk; a body that arrived whole
 * (most of them once masked, when the length is no longer known in advance) is sent with its
 * Content-Length instead of chunked, in one write. A streaming body (server-sent events) still
 * leaves chunk by chunk: nothing is held past the turn of the event loop it arrived in.
 *
 * `onBytes` is told every chunk's size as it is read; `onFailed` when the body fails midway (the
 * response is then destroyed).
 */
export function writeResponse(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | string[]>,
  body: Readable,
  onBytes: (n: number) => void,
  onFailed: (err: Error) => void,
): void {
  let held: Buffer | undefined;
  let flushing: NodeJS.Immediate | undefined;
  const head = (length?: number): void => {
    if (!res.headersSent)
      res.writeHead(status, length === undefined ? headers : { ...headers, 'content-length': length });
  };
  const flush = (): void => {
    flushing = undefined;
    if (held === undefined || res.destroyed) return;
    const out = held;
    held = undefined;
    head();
    if (!res.write(out)) body.pause();
  };
  body.on('data', (chunk: Buffer) => {
    onBytes(chunk.length);
    if (held !== undefined) flush();
    held = chunk;
    flushing ??= setImmediate(flush);
  });
  res.on('drain', () => body.resume());
  body.once('end', () => {
    if (flushing) clearImmediate(flushing);
    flushing = undefined;
    const whole =
      held !== undefined &&
      headers['content-length'] === undefined &&
      headers['transfer-encoding'] === undefined &&
      !NO_BODY.has(status);
    head(whole ? held!.length : undefined);
    res.end(held);
    held = undefined;
  });
  body.once('error', (err) => {
    if (flushing) clearImmediate(flushing);
    onFailed(err);
    res.destroy();
  });
  res.once('close', () => {
    if (flushing) clearImmediate(flushing);
    if (!body.readableEnded) body.destroy();
  });
}
