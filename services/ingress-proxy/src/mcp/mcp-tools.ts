import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';
import { uuidv7, type McpToolName } from '@airlock/contracts';
import type { ApprovalClient } from '../approval-client/approval.client';
import type { IngressConfig } from '../config';
import type { PolicyClient } from '../policy-client/policy-client.service';
import type { HttpToolPort, SqlToolPort, ToolCaller } from '../tool-ports/tool-ports';
import { badInput, jsonResult, pendingResult, refusedResult } from './mcp-answers';
import { rowsAsJson } from './sql-values';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What the tools of one request need. */
export interface ToolContext {
  caller: Omit<ToolCaller, 'tool' | 'signal'>;
  http: HttpToolPort;
  sql: SqlToolPort;
  policy: PolicyClient;
  approvals: Pick<ApprovalClient, 'status' | 'waitFor'>;
  config: IngressConfig;
}

/** Headers a model may set on http_request; everything else (Authorization, Cookie, Host...) is the gateway's. */
export const AGENT_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-language',
  'content-type',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'prefer',
]);

/** The longest an approval_status call waits for a decision. */
const MAX_STATUS_WAIT_SECONDS = 60;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const connection = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
  .describe('The connection name, as list_connections gives it.');

// Input schemas are built once: a stateless server registers its tools on every request.
const QUERY_INPUT = {
  connection,
  sql: z.string().min(1).max(1_000_000).describe('The SQL text.'),
  params: z
    .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .max(65535)
    .optional()
    .describe('Values for $1, $2, ... (sent as text; null is SQL NULL).'),
  maxRows: z.number().int().min(1).max(100000).optional().describe('Rows to return per statement (default 1000).'),
};

const DESCRIBE_INPUT = {
  connection,
  schema: z.string().min(1).max(63).optional().describe('Only this schema (default: every non-system schema).'),
};

const HTTP_INPUT = {
  connection,
  method: z.enum(METHODS),
  path: z.string().min(1).max(8192).describe('Path below the connection, starting with "/".'),
  query: z
    .record(z.string(), z.union([z.string(), z.array(z.string())]))
    .optional()
    .describe('Query parameters.'),
  headers: z.record(z.string(), z.string()).optional().describe('Request headers (allowlisted names only).'),
  body: z.string().max(10_000_000).optional().describe('Request body, as text (JSON goes here as a string).'),
};

const STATUS_INPUT = {
  approvalId: z.uuid().describe('The approvalId a pending_approval result gave.'),
  waitSeconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_STATUS_WAIT_SECONDS)
    .optional()
    .describe(
      `While it is pending, wait up to this many seconds for a decision (default 0, at most ${MAX_STATUS_WAIT_SECONDS}).`,
    ),
};

/** Registers the gateway's tools; every one runs through the ports, hence the operation pipeline. */
export function registerTools(server: McpServer, ctx: ToolContext): void {
  const caller = (tool: McpToolName, extra: Extra): ToolCaller => ({ ...ctx.caller, tool, signal: extra.signal });

  server.registerTool(
    'list_connections',
    {
      title: 'List connections',
      description:
        'Lists the databases and APIs you may use through the Airlock gateway, with their protocol (postgres or http) ' +
        'and what they hold. Call it first to learn connection names for query, describe_database and http_request.',
      inputSchema: {},
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const usable: Array<{ name: string; protocol: string; description: string }> = [];
      for (const c of ctx.config.MCP_CONNECTIONS) {
        let decision;
        try {
          ({ decision } = await ctx.policy.evaluate({
            requestId: uuidv7(),
            sessionId: ctx.caller.sessionId,
            principal: ctx.caller.principal,
            connection: c.name,
            protocol: c.protocol,
            operation: { kind: 'connect' },
          }));
        } catch {
          // Fail closed: without policy's answer nothing is listed.
          return refusedResult({
            kind: 'refused',
            code: 'policy_unavailable',
            message: 'the policy service did not answer',
          });
        }
        if (decision.decision !== 'deny')
          usable.push({ name: c.name, protocol: c.protocol, description: c.description });
      }
      return jsonResult({ connections: usable });
    },
  );

  server.registerTool(
    'query',
    {
      title: 'Run SQL',
      description:
        'Runs SQL on a PostgreSQL connection through the Airlock gateway, under your identity: policy may allow, ' +
        'refuse or hold a statement for a person to approve, and masks sensitive columns in results. Several ' +
        'statements separated by ";" run in one go (without params). With params, sql is one statement using ' +
        '$1, $2, ... Returns per statement the command tag, columns (name, type, and "masked" with the rule when the ' +
        'gateway masks the whole column), rows as JSON and a truncated flag. ' +
        'A result with status pending_approval tells you how to continue.',
      inputSchema: QUERY_INPUT,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const maxRows = Math.min(args.maxRows ?? ctx.config.MCP_MAX_ROWS, ctx.config.MCP_MAX_ROWS);
      const params = args.params?.map((p) => (p === null ? null : String(p)));
      const out = await withProgress(extra, () =>
        ctx.sql.run(caller('query', extra), { connection: args.connection, sql: args.sql, params, maxRows }),
      );
      if (out.kind === 'pending') return pendingResult(out, 'query');
      if (out.kind === 'refused') return refusedResult(out);
      const results = out.results.map((r) => ({
        command: r.command,
        columns: r.columns.map((c) => ({ name: c.name, type: c.type, ...(c.maskedBy ? { masked: c.maskedBy } : {}) })),
        rows: rowsAsJson(r),
        rowCount: r.rowCount,
        truncated: r.truncated,
      }));
      if (out.error) {
        const body = { error: 'sql_error', sqlstate: out.error.sqlstate, message: out.error.message, results };
        return { isError: true, content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
      }
      return jsonResult({ results });
    },
  );

  server.registerTool(
    'describe_database',
    {
      title: 'Describe a database',
      description:
        'Lists the tables and columns (with types) of a PostgreSQL connection, optionally of one schema, read ' +
        'through the Airlock gateway under your identity. A column with "masked" has every value replaced by the ' +
        'gateway (its rule is named): you may select it but will not see its data. Use it before writing queries.',
      inputSchema: DESCRIBE_INPUT,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args, extra) => {
      const out = await withProgress(extra, () =>
        ctx.sql.run(caller('describe_database', extra), {
          connection: args.connection,
          sql: DESCRIBE_SQL,
          params: [args.schema ?? null],
          maxRows: 10000,
        }),
      );
      if (out.kind === 'pending') return pendingResult(out, 'describe_database');
      if (out.kind === 'refused') return refusedResult(out);
      if (out.error)
        return refusedResult({ kind: 'refused', sqlstate: out.error.sqlstate, message: out.error.message });
      type Column = { name: string; type: string; nullable: boolean; masked?: string };
      const tables = new Map<string, { schema: string; table: string; columns: Column[] }>();
      const listed = out.results[0];
      for (const [schema, table, column, type, nullable] of listed?.rows ?? []) {
        const key = `${schema}.${table}`;
        let t = tables.get(key);
        if (!t) tables.set(key, (t = { schema: schema ?? '', table: table ?? '', columns: [] }));
        const masked = listed?.columnMask?.(t.schema, t.table, column ?? '');
        t.columns.push({
          name: column ?? '',
          type: type ?? '',
          nullable: nullable === 'YES',
          ...(masked ? { masked } : {}),
        });
      }
      return jsonResult({ tables: [...tables.values()], truncated: out.results[0]?.truncated ?? false });
    },
  );

  server.registerTool(
    'http_request',
    {
      title: 'Call an API',
      description:
        'Sends one HTTP request to an API connection through the Airlock gateway, which adds the credential ' +
        '(never give one yourself), applies policy (a write may be held for a person to approve) and masks ' +
        'secrets in the response. path is below the connection\'s base URL and starts with "/". Only these ' +
        `headers may be set: ${[...AGENT_HEADERS].join(', ')}. Returns status, headers and body (text, or base64 ` +
        'for binary), with a truncated flag.',
      inputSchema: HTTP_INPUT,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      if (!args.path.startsWith('/') || args.path.includes('?') || args.path.includes('#')) {
        return badInput('path must start with "/" and carry no query or fragment (use query)');
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(args.headers ?? {})) {
        const lower = name.toLowerCase();
        if (!AGENT_HEADERS.has(lower)) return badInput(`header "${name.slice(0, 64)}" may not be set by a tool call`);
        if (/[\r\n\0]/.test(value)) return badInput(`header "${lower}" has a line break in its value`);
        headers[lower] = value;
      }
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(args.query ?? {})) for (const one of [v].flat()) query.append(k, one);
      const out = await withProgress(extra, () =>
        ctx.http.request(caller('http_request', extra), {
          connection: args.connection,
          method: args.method,
          path: args.path,
          query: query.toString(),
          headers,
          body: args.body !== undefined ? Buffer.from(args.body, 'utf8') : undefined,
          maxBytes: ctx.config.MCP_MAX_RESPONSE_BYTES,
        }),
      );
      if (out.kind === 'pending') return pendingResult(out, 'http_request');
      if (out.kind === 'refused') return refusedResult(out);
      const text = isText(out.headers['content-type']);
      const body = {
        status: out.status,
        headers: out.headers,
        ...(text ? { body: out.body.toString('utf8') } : { bodyBase64: out.body.toString('base64') }),
        truncated: out.truncated,
        requestId: out.requestId,
      };
      return { ...jsonResult(body), ...(out.status >= 400 ? { isError: true } : {}) };
    },
  );

  server.registerTool(
    'approval_status',
    {
      title: 'Check an approval',
      description:
        'Tells where a call that was held for a person stands (pending, approved, denied, expired, cancelled or ' +
        'used), given the approvalId of its pending_approval result; with waitSeconds it waits for a decision. ' +
        'Once approved, make the held call again with exactly the same arguments.',
      inputSchema: STATUS_INPUT,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args, extra) =>
      withProgress(extra, () => approvalStatus(ctx, args.approvalId, args.waitSeconds ?? 0, extra)),
  );
}

/** One approval_status call: ask, wait for a decision if asked to and still pending, ask again. */
async function approvalStatus(
  ctx: ToolContext,
  approvalId: string,
  waitSeconds: number,
  extra: Extra,
): Promise<CallToolResult> {
  const ask = (): ReturnType<ToolContext['approvals']['status']> =>
    ctx.approvals.status(approvalId, ctx.caller.principal, uuidv7());
  try {
    let status = await ask();
    if (status.found && status.state === 'pending' && waitSeconds > 0) {
      const decided = await ctx.approvals.waitFor(approvalId, waitSeconds * 1000, extra.signal);
      if (decided) status = await ask();
    }
    if (!status.found) {
      return refusedResult({
        kind: 'refused',
        code: 'not_found',
        message: 'no approval with this id was requested by you',
      });
    }
    const { requestId: _requestId, signature: _signature, found: _found, ...shown } = status;
    return jsonResult({ ...shown, next: nextStep(status.state) });
  } catch {
    // Fail closed: without the approval service's signed answer nothing is claimed.
    return refusedResult({
      kind: 'refused',
      code: 'approval_unavailable',
      message: 'the approval service did not answer; ask again shortly',
    });
  }
}

function nextStep(state: string | undefined): string {
  switch (state) {
    case 'pending':
      return 'A person has not decided yet. Ask again later (waitSeconds lets this call wait).';
    case 'approved':
      return 'Approved: make the held call again with exactly the same arguments.';
    case 'used':
      return 'The approval was used by the call it was for. A new call of the same operation needs a new approval.';
    default:
      return 'The held call will not run. Do not retry it unless a person asks you to.';
  }
}

const DESCRIBE_SQL =
  'SELECT table_schema, table_name, column_name, data_type, is_nullable FROM information_schema.columns ' +
  "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND ($1::text IS NULL OR table_schema = $1::text) " +
  'ORDER BY table_schema, table_name, ordinal_position';

function isText(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return /^(text\/|application\/(json|xml|[a-z.+-]*\+(json|xml)|x-www-form-urlencoded|javascript))/i.test(contentType);
}

/**
 * Runs a call; when the client asked for progress (a progressToken), tells it every few seconds
 * that the call still runs: a call held for a person may wait up to MCP_APPROVAL_WAIT_MS.
 */
async function withProgress<T>(extra: Extra, work: () => Promise<T>): Promise<T> {
  const token = extra._meta?.progressToken;
  if (token === undefined) return work();
  let beat = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    beat++;
    extra
      .sendNotification({
        method: 'notifications/progress',
        params: {
          progressToken: token,
          progress: beat,
          message: `still running after ${Math.round((Date.now() - started) / 1000)} s (it may wait for a person's approval)`,
        },
      })
      .catch(() => undefined);
  }, 2000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export type { CallToolResult };
