// A bare Node.js reverse proxy: node:http in front, an undici pool behind, the response streamed
// through, nothing else (no identity, policy, masking or audit). It is the floor under any
// gateway written on the same runtime and libraries, measured beside Airlock in bench/stack.sh.
//
//   node bench/http/node-proxy.js LISTEN_PORT UPSTREAM_ORIGIN
'use strict';
const http = require('node:http');
const { Pool } = require('undici');

const [port, upstream] = process.argv.slice(2);
if (!port || !upstream) {
  console.error('usage: node-proxy.js LISTEN_PORT UPSTREAM_ORIGIN');
  process.exit(2);
}
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 30000 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

function withoutHop(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP.has(name)) out[name] = value;
  return out;
}

http
  .createServer((req, res) => {
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : req;
    pool
      .request({ method: req.method, path: req.url, headers: withoutHop(req.headers), body })
      .then((up) => {
        res.writeHead(up.statusCode, withoutHop(up.headers));
        up.body.pipe(res);
      })
      .catch((err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(err.message));
      });
  })
  .listen(Number(port), '127.0.0.1');
