import type { IncomingMessage, Server, ServerResponse } from 'node:http';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves the requests `mine` picks straight from the server's own 'request' event, before its
 * other listeners (Fastify's, for Nest's admin API and health) see them; every other request goes
 * on to those listeners unchanged. The protocol front doors that must not pay for Nest's
 * per-request pipeline attach here.
 */
export function takeRequests(server: Server, mine: (url: string) => boolean, serve: RequestListener): void {
  const others = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== undefined && mine(req.url)) {
      serve(req, res);
      return;
    }
    for (const listener of others) listener.call(server, req, res);
  });
}
