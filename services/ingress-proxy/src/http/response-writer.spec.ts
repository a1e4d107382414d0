import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { writeResponse } from './response-writer';

/** A server that answers every request with `body` through writeResponse. */
async function serving(status: number, headers: Record<string, string>, body: () => Readable): Promise<Server> {
  const server = createServer((_req, res) =>
    writeResponse(
      res,
      status,
      headers,
      body(),
      () => undefined,
      () => undefined,
    ),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function get(server: Server): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, resolve)
      .on('error', reject)
      .end();
  });
}

async function text(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('writeResponse', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('sends a body that arrived whole with its length, not chunked', async () => {
    server = await serving(200, { 'content-type': 'application/json' }, () => Readable.from([Buffer.from('{"a":1}')]));
    const res = await get(server);
    expect(res.headers['content-length']).toBe('7');
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(await text(res)).toBe('{"a":1}');
  });

  it('keeps the upstream length and streams a body of many chunks intact', async () => {
    const parts = ['one,', 'two,', 'three'].map((s) => Buffer.from(s));
    server = await serving(200, {}, () => Readable.from(parts));
    const res = await get(server);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(await text(res)).toBe('one,two,three');
  });

  it('holds no chunk past the turn of the event loop it arrived in (streams stay live)', async () => {
    const stream = new PassThrough();
    server = await serving(200, { 'content-type': 'text/event-stream' }, () => stream);
    // Node sends the headers with the first chunk of the body.
    const answered = get(server);
    stream.write('data: first\n\n');
    const res = await answered;
    const [first] = (await once(res, 'data')) as [Buffer];
    expect(first.toString()).toContain('data: first');
    stream.end('data: second\n\n');
    expect(await text(res)).toContain('data: second');
  });

  it('adds no length to a response that has no body', async () => {
    server = await serving(204, {}, () => Readable.from([]));
    const res = await get(server);
    expect(res.statusCode).toBe(204);
    expect(res.headers['content-length']).toBeUndefined();
    await text(res);
  });
});
