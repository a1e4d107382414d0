import { request as httpRequest } from 'node:http';
import { randomInt } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { PgUpstreamDatabase, githubFormatToken, localPgServerCertFile, waitFor } from '@airlock/testing';
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
  /** Query calls that ran their one statement: each must be in the store exactly once. */
  let queriesRun = 0;
  /** Request ids of http_request calls that reached policy. */
  const httpRequests: string[] = [];

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
    expect(tools.map((t) => t.name).sort()).toEqual([
      'approval_status',
      'describe_database',
      'http_request',
      'list_connections',
      'query',
    ]);
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
    queriesRun++;
    const [result] = bodyOf(r).results as Array<{
      command: string;
      columns: Array<{ name: string; type: string; masked?: string }>;
      rows: unknown[][];
    }>;
    expect(result.command).toBe('SELECT 1');
    expect(result.columns.map((c) => c.name)).toEqual(['id', 'name', 'ssn', 'e']);
    // The model is told which columns it will not see, the expression that carries one included.
    expect(result.columns.map((c) => Boolean(c.masked))).toEqual([false, false, true, true]);
    expect(result.rows[0][0]).toBe(1);
    expect(result.rows[0][1]).toBe('Ada');
    expect(JSON.stringify(result.rows)).not.toContain(plantedSsn);
  });

  it('describes the database with masked columns flagged', async () => {
    const r = await call(await connect(), 'describe_database', { connection: 'pgdb', schema: 'public' });
    expect(r.isError).toBeFalsy();
    queriesRun++;
    const { tables } = bodyOf(r) as {
      tables: Array<{ schema: string; table: string; columns: Array<{ name: string; type: string; masked?: string }> }>;
    };
    const customers = tables.find((t) => t.table === 'customers');
    expect(customers).toMatchObject({ schema: 'public' });
    expect(customers!.columns.map((c) => [c.name, c.type, Boolean(c.masked)])).toEqual([
      ['id', 'integer', false],
      ['name', 'text', false],
      ['ssn', 'text', true],
    ]);
    expect(tables.find((t) => t.table === 'orders')!.columns.every((c) => !c.masked)).toBe(true);
    const denied = await call(await connect(), 'describe_database', { connection: 'hidden' });
    expect(denied.isError).toBe(true);
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
    const approvalId = String(pending.approvalId);
    const status = async (who: Client, waitSeconds?: number) =>
      call(who, 'approval_status', { approvalId, ...(waitSeconds !== undefined ? { waitSeconds } : {}) });
    expect(bodyOf(await status(client))).toMatchObject({ approvalId, state: 'pending', approvals: 0, required: 1 });
    // Another agent learns nothing of it, not even that it exists.
    const other = await connect(await sys.token('agent-other', ['agents']));
    const foreign = await status(other);
    expect(foreign.isError).toBe(true);
    expect(bodyOf(foreign)).toMatchObject({ error: 'not_found' });
    const unknown = await call(client, 'approval_status', { approvalId: '0190d5f0-0000-7000-8000-000000000000' });
    expect(bodyOf(unknown)).toMatchObject({ error: 'not_found' });
    // A wait that a person's decision ends early.
    const waiting = status(client, 30);
    const approver = await sys.token('approver-1', ['approvers']);
    const decided = await sys.approvalApi(`/approvals/${approvalId}/approve`, {
      method: 'POST',
      token: approver,
      body: '{}',
    });
    expect(decided.status).toBe(200);
    expect(bodyOf(await waiting)).toMatchObject({
      state: 'approved',
      approvals: 1,
      next: expect.stringMatching(/again/),
    });
    const again = await call(client, 'query', args);
    expect(again.isError).toBeFalsy();
    expect((bodyOf(again).results as Array<{ command: string }>)[0].command).toBe('UPDATE 1');
    queriesRun++;
    expect(bodyOf(await status(client))).toMatchObject({ state: 'used' });
  });

  it('masks secrets in an API answer to http_request, and scrubs the injected credential', async () => {
    const credential = `cred-${randomInt(1e9)}-${randomInt(1e9)}`;
    const created = await sys.admin('/connections', {
      method: 'POST',
      body: JSON.stringify({ name: 'secure', protocol: 'http', upstream: sys.upstream.url, credentialKind: 'bearer' }),
    });
    expect(created.status).toBe(201);
    expect(
      (await sys.admin('/connections/secure/secret', { method: 'PUT', body: JSON.stringify({ token: credential }) }))
        .status,
    ).toBe(200);
    const plantedKey = githubFormatToken(
      Array.from({ length: 30 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[randomInt(36)]).join(''),
    );
    sys.upstream.planted = { deployKey: plantedKey };
    try {
      const r = await call(await connect(), 'http_request', { connection: 'secure', method: 'GET', path: '/reflect' });
      expect(r.isError).toBeFalsy();
      const answer = bodyOf(r);
      httpRequests.push(String(answer.requestId));
      // The upstream received the vault's credential (and echoed it back); the agent sees neither it nor the key.
      expect(sys.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${credential}`);
      expect(JSON.stringify(answer)).not.toContain(credential);
      const plain = await call(await connect(), 'http_request', {
        connection: 'secure',
        method: 'GET',
        path: '/items',
      });
      httpRequests.push(String(bodyOf(plain).requestId));
      expect(String(bodyOf(plain).body)).toContain('[MASKED');
      expect(JSON.stringify(bodyOf(plain))).not.toContain(plantedKey);
    } finally {
      sys.upstream.planted = {};
    }
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
    httpRequests.push(String(echoed.requestId));
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
    httpRequests.push(requestId);
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

  it('has every tool call in the store exactly once', async () => {
    const completed = await waitFor('every query call stored', async () => {
      const rows = (await sys.audit.byTool('query'))
        .concat(await sys.audit.byTool('describe_database'))
        .filter((e) => e.type === 'statement.completed');
      if (rows.length < queriesRun) throw new Error(`${rows.length} of ${queriesRun} stored`);
      return rows;
    });
    expect(completed).toHaveLength(queriesRun);
    for (const requestId of httpRequests) {
      const events = await sys.audit.waitForRequest(requestId, ['operation.completed']);
      // Each of its events once: an event stored twice would show its type twice.
      const types = events.map((e) => e.type);
      expect(types).toEqual([...new Set(types)]);
    }
    const all = [...(await sys.audit.byTool('http_request')), ...(await sys.audit.byTool('query'))];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
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
