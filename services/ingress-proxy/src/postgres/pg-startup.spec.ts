import { once } from 'node:events';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { MessageReader, encodePasswordMessage, encodeStartupMessage } from '@airlock/pg-wire';
import { PgGatewayError } from './pg-errors';
import { HandshakeDeadline, readFirstPacket, readPassword, startupSettings } from './pg-startup';

describe('start-up settings', () => {
  it.each(['UTF8', 'utf8', 'UTF-8', 'utf-8', "'utf-8'", 'unicode', 'UNICODE', 'Unicode', "'UTF8'", 'utf_8'])(
    'accepts client_encoding %s, as PostgreSQL does, and passes UTF8 upstream',
    (value) => {
      expect(startupSettings({ database: 'db', client_encoding: value }).passed.client_encoding).toBe('UTF8');
    },
  );

  it.each(['LATIN1', "'latin1'", 'SQL_ASCII', 'utf16', 'utf-88', 'WIN1252', ''])(
    'refuses client_encoding %s with 0A000',
    (value) => {
      expect(() => startupSettings({ database: 'db', client_encoding: value })).toThrow(
        expect.objectContaining({ sqlstate: '0A000', publicMessage: expect.stringMatching(/UTF8/) }),
      );
    },
  );
});

/** A loopback server: each test gets the server side of one fresh connection. */
async function socketPair(): Promise<{ server: Server; client: Socket; accepted: Socket }> {
  const server = createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const acceptedP = once(server, 'connection') as Promise<[Socket]>;
  const client = netConnect({ host: '127.0.0.1', port });
  client.on('error', () => undefined);
  const [accepted] = await acceptedP;
  accepted.on('error', () => undefined);
  return { server, client, accepted };
}

describe('pre-authentication limits', () => {
  let pair: { server: Server; client: Socket; accepted: Socket };
  beforeEach(async () => {
    pair = await socketPair();
  });
  afterEach(() => {
    pair.client.destroy();
    pair.accepted.destroy();
    pair.server.close();
  });

  it('refuses a password message larger than the pre-authentication limit from its header alone', async () => {
    const reader = new MessageReader({ maxLength: 16384 });
    const header = Buffer.alloc(5);
    header[0] = 0x70;
    header.writeInt32BE(64 * 1024 * 1024, 1);
    pair.client.write(header);
    const err = await readPassword(pair.accepted, reader, new HandshakeDeadline(5000)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PgGatewayError);
    expect(err).toMatchObject({
      sqlstate: '08P01',
      fatal: true,
      publicMessage: expect.stringMatching(/before authentication.*16384 bytes/),
    });
  });

  it('reads a password message up to the limit (a JWT fits)', async () => {
    const token = `eyJ${'a'.repeat(12000)}`;
    pair.client.write(encodePasswordMessage(token));
    const { frame } = await readPassword(
      pair.accepted,
      new MessageReader({ maxLength: 16384 }),
      new HandshakeDeadline(5000),
    );
    expect(frame.type).toBe(0x70);
    expect(frame.body.subarray(0, -1).toString()).toBe(token);
  });

  it('refuses a start-up packet larger than the limit', async () => {
    pair.client.write(encodeStartupMessage({ database: 'db', application_name: 'x'.repeat(5000) }));
    await expect(
      readFirstPacket({ socket: pair.accepted }, undefined, new HandshakeDeadline(5000), 4096),
    ).rejects.toMatchObject({ sqlstate: '08P01', publicMessage: expect.stringMatching(/start-up packet.*4096 bytes/) });
  });

  it('gives the whole handshake one deadline, not one per read', async () => {
    const deadline = new HandshakeDeadline(1000);
    setTimeout(() => pair.client.write(encodeStartupMessage({ database: 'db' })), 600);
    const first = await readFirstPacket({ socket: pair.accepted }, undefined, deadline);
    expect(first.kind).toBe('startup');
    // Each step alone is shorter than the deadline; both together are not.
    setTimeout(() => pair.client.write(encodePasswordMessage('token')), 600);
    const started = Date.now();
    await expect(readPassword(pair.accepted, new MessageReader(), deadline)).rejects.toMatchObject({
      sqlstate: '08P01',
      fatal: true,
      publicMessage: 'the start-up did not complete within 1000 ms; the connection is closed',
    });
    expect(Date.now() - started).toBeLessThan(600);
  });
});
