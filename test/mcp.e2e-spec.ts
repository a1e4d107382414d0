import { request as httpRequest } from 'node:http';
import { randomInt } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { PgUpstreamDatabase, localPgServerCertFile } from '@airlock/testing';
import { findIn } from './support/scanner';
import { TestSystem } from './support/system';

/**
 * The MCP front door, whole system, with the SDK's own client over Streamable HTTP: tools run
 * through the same policy, masking, approvals and audit as the wire protocol and the HTTP path.
 */
describe('MCP front door', () => {
  const sys = new TestSystem();
  const digits = (n: number) => Array.from({ length: n }, () => String(randomInt(10))).join('');
  const plantedSsn = `${digits(3)}-${digits(2)}-${digits(4)}`;
  const seen: string[] = [];
  let db: PgUpstreamDatabase;
  let token: string;
  const clients: Client[] = [];

  async function connect(bearer = token): Promise<Client> {
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${sys.ingress.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${bearer}` } },
    });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    seen.push(JSON.stringify(r));
    return r;
  }

  const bodyOf = (r: CallToolResult): Record<string, unknown> =>
    JSON.parse((r.content[0] as { text: string }).text) as Record<string, unknown>;

  beforeAll(async () => {
    await sys.start({
      postgres: true,
      pgUpstreamCaFile: localPgServerCertFile(),
      ingressEnv: {
        MCP_APPROVAL_WAIT_MS: '1500',
        MCP_ALLOWED_ORIGINS: 'https://copilot.example',
        MCP_CONNECTIONS: JSON.stringify([
          { name: 'pgdb', protocol: 'postgres', description: 'customers and orders' },
          { name: 'demo', protocol: 'http', description: 'the demo API' },
          { name: 'hidden', protocol: 'http', description: 'nobody may use it' },
        ]),
      },
    });
    db = await PgUpstreamDatabase.create('airlock_mcp');
    await db.query(`
      CREATE TABLE customers (id int PRIMARY KEY, name text, ssn text);
      CREATE TABLE orders (id int PRIMARY KEY, total int);
      INSERT INTO customers VALUES (1, 'Ada', '${plantedSsn}');
      INSERT INTO orders VALUES (1, 10);
    `);
    await sys.addPgConnection('pgdb', db);
    await sys.addPgConnection('pgreview', db);
    token = await sys.token();
  }, 240000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await sys.stop();
    await db?.drop();
  }, 60000);

  it('initializes with a revision it speaks and lists its tools with schemas and annotations', async () => {
    const client = await connect();
    expect(['2025-06-18', '2025-03-26']).toContain(
      (client as unknown as { _transport: { protocolVersion?: string } })._transport.protocolVersion,
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['describe_database', 'http_request', 'list_connections', 'query']);
    const query = tools.find((t) => t.name === 'query')!;
    expect(query.inputSchema.required).toEqual(expect.arrayContaining(['connection', 'sql']));
    expect(query.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(tools.find((t) => t.name === 'list_connections')!.annotations).toMatchObject({ readOnlyHint: true });
  });

  it('lists only the connections policy lets the caller use', async () => {
    const r = await call(await connect(), 'list_connections', {});
    const names = (bodyOf(r).connections as Array<{ name: string }>).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['pgdb', 'demo']));
    expect(names).not.toContain('hidden');
  });

  it('finds the planted SSN where it is on purpose: the upstream itself', async () => {
    expect(findIn('upstream', JSON.stringify(await db.query('SELECT ssn FROM customers')), [plantedSsn])).toHaveLength(
      1,
    );
  });

  it('runs a query with masked columns, expressions included', async () => {
    const client = await connect();
    const r = await call(client, 'query', {
      connection: 'pgdb',
      sql: `SELECT id, name, ssn, upper(ssn) || '' AS e FROM customers WHERE id = $1`,
      params: [1],
    });
    expect(r.isError).toBeFalsy();
    const [result] = bodyOf(r).results as Array<{
      command: string;
      columns: Array<{ name: string; type: string }>;
      rows: unknown[][];
    }>;
    expect(result.command).toBe('SELECT 1');
    expect(result.columns.map((c) => c.name)).toEqual(['id', 'name', 'ssn', 'e']);
    expect(result.rows[0][0]).toBe(1);
    expect(result.rows[0][1]).toBe('Ada');
    expect(JSON.stringify(result.rows)).not.toContain(plantedSsn);
  });

  it('refuses a denied statement as a tool error with its SQLSTATE', async () => {
    const r = await call(await connect(), 'query', { connection: 'pgdb', sql: 'DELETE FROM orders' });
    expect(r.isError).toBe(true);
    expect(bodyOf(r)).toMatchObject({ sqlstate: '42501' });
    expect(String(bodyOf(r).message)).toMatch(/unbounded|refused|policy|denied/i);
  });

  it('holds a write for a person, answers pending, and lets the same call through once approved', async () => {
    const client = await connect();
    const args = { connection: 'pgreview', sql: 'UPDATE orders SET total = total + 1 WHERE id = 1' };
    const first = await call(client, 'query', args);
    expect(first.isError).toBeFalsy();
    const pending = bodyOf(first);
    expect(pending).toMatchObject({ status: 'pending_approval' });
    const approver = await sys.token('approver-1', ['approvers']);
    const decided = await sys.approvalApi(`/approvals/${String(pending.approvalId)}/approve`, {
      method: 'POST',
      token: approver,
      body: '{}',
    });
    expect(decided.status).toBe(200);
    const again = await call(client, 'query', args);
    expect(again.isError).toBeFalsy();
    expect((bodyOf(again).results as Array<{ command: string }>)[0].command).toBe('UPDATE 1');
  });

  it('sends an HTTP request through the gateway, and refuses a denied one as a tool error', async () => {
    const client = await connect();
    const ok = await call(client, 'http_request', {
      connection: 'demo',
      method: 'GET',
      path: '/hello',
      query: { a: 'b' },
    });
    expect(ok.isError).toBeFalsy();
    const echoed = bodyOf(ok);
    expect(echoed.status).toBe(200);
    // The agent's token never goes upstream: the echo shows the headers the upstream received.
    expect(String(echoed.body)).not.toContain(token);
    const denied = await call(client, 'http_request', { connection: 'demo', method: 'GET', path: '/secrets/x' });
    expect(denied.isError).toBe(true);
    expect(bodyOf(denied)).toMatchObject({ status: 403 });
    const header = await call(client, 'http_request', {
      connection: 'demo',
      method: 'GET',
      path: '/hello',
      headers: { authorization: 'Bearer smuggled' },
    });
    expect(header.isError).toBe(true);
    expect(bodyOf(header)).toMatchObject({ error: 'bad_input' });
  });

  it('answers 401 with the resource metadata without a token or with a bad one, and serves RFC 9728 metadata', async () => {
    for (const authorization of [undefined, 'Bearer not-a-jwt']) {
      const res = await fetch(`${sys.ingress.url}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer resource_metadata="http:\/\/.+\/\.well-known\/oauth-protected-resource"/,
      );
      const text = await res.text();
      seen.push(text);
      expect(text).not.toContain('not-a-jwt');
    }
    const meta = await fetch(`${sys.ingress.url}/.well-known/oauth-protected-resource`);
    expect(meta.status).toBe(200);
    const doc = (await meta.json()) as { resource: string; authorization_servers: string[] };
    expect(doc.resource).toMatch(/\/mcp$/);
    expect(doc.authorization_servers).toEqual(expect.arrayContaining([sys.idp.issuer]));
  });

  it('refuses a foreign Origin (403), answers GET with 405, and malformed JSON-RPC with its JSON-RPC error', async () => {
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
    };
    const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const foreign = await fetch(`${sys.ingress.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, origin: 'https://evil.example' },
      body: list,
    });
    expect(foreign.status).toBe(403);
    // DNS rebinding: the attacker's page names its own host, and so does the Host header its
    // browser sends; the gateway's origin is configuration, never what the request says it is.
    const port = new URL(sys.ingress.url).port;
    const rebound = await rawPost(sys.ingress.url, list, {
      ...headers,
      host: `rebound.example:${port}`,
      origin: `http://rebound.example:${port}`,
    });
    expect(rebound).toBe(403);
    const allowed = await fetch(`${sys.ingress.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, origin: 'https://copilot.example' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    });
    expect(allowed.status).toBe(200);
    const get = await fetch(`${sys.ingress.url}/mcp`, { headers });
    expect(get.status).toBe(405);
    const notJson = await fetch(`${sys.ingress.url}/mcp`, { method: 'POST', headers, body: '{"jsonrpc": "2.0", ' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: -32700 } });
    const notRpc = await fetch(`${sys.ingress.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ hello: 1 }),
    });
    expect(notRpc.status).toBe(400);
    expect(await notRpc.json()).toMatchObject({ error: { code: expect.any(Number) } });
  });

  it('records tool calls with protocol mcp and the tool name', async () => {
    const client = await connect();
    const r = await call(client, 'http_request', {
      connection: 'demo',
      method: 'POST',
      path: '/items',
      body: '{"a":1}',
    });
    const requestId = String(bodyOf(r).requestId);
    const events = await sys.audit.waitForRequest(requestId, [
      'operation.intercepted',
      'operation.decided',
      'operation.completed',
    ]);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'operation.completed')).toHaveLength(1);
    for (const e of events) {
      expect(e.event.protocol).toBe('mcp');
      expect(e.event.tool).toBe('http_request');
    }
  });

  it('never returned the planted SSN or the token in anything MCP answered', () => {
    expect(seen.length).toBeGreaterThan(5);
    expect(findIn('a request header', `Bearer ${token}`, [token])).toHaveLength(1);
    expect(findIn('MCP answers', seen.join('\n'), [plantedSsn, token])).toEqual([]);
  });
});

/** A POST with headers fetch may not set (Host); resolves to the status. */
function rawPost(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/mcp`,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
