import type { McpToolName, Principal } from '@airlock/contracts';

/**
 * What a tool-calling adapter (MCP) may ask of the protocol adapters, without importing them: the
 * HTTP adapter and the PostgreSQL adapter each provide one port under its token, and run the call
 * through their own code (canonical request, credential injection, statement classification,
 * masking by data flow) and the operation pipeline. Adapters never import each other; this file is
 * the neutral contract between them.
 */

/** Who calls through a tool, for the audit trail: protocol `mcp`, the tool, the audit session. */
export interface ToolCaller {
  principal: Principal;
  tool: McpToolName;
  /** The audit session the call belongs to (an MCP session, or the client's connection). */
  sessionId: string;
  /** Where the caller connects from, and whether over TLS (session.started of a database call). */
  client: string;
  tls: boolean;
  /** Aborted when the caller stops waiting (it hung up): a held call stops waiting with it. */
  signal?: AbortSignal;
  /** How long a call held for review waits for a person before it answers `pending`. */
  holdWaitMs: number;
}

/** A call held for a person that nobody had decided on when the wait ended. */
export interface PendingCall {
  kind: 'pending';
  requestId?: string;
  approvalId: string;
  url?: string;
  expiresAt: string;
}

/** Refused by the gateway or the upstream; `message` is safe to show the agent. */
export interface RefusedCall {
  kind: 'refused';
  requestId?: string;
  message: string;
  /** HTTP: the status the agent would have received, and the error code. */
  status?: number;
  code?: string;
  /** PostgreSQL: the SQLSTATE. */
  sqlstate?: string;
}

/* HTTP */

export const HTTP_TOOL_PORT = Symbol('airlock.ingress.http-tool-port');

export interface HttpToolRequest {
  connection: string;
  method: string;
  /** The path below the connection's upstream, starting with `/`, without a query string. */
  path: string;
  /** The query string without `?`, as sent (encoded). */
  query: string;
  /** Request headers, lower-case names (already checked against the tool's allowlist). */
  headers: Record<string, string>;
  body?: Buffer;
  /** The response body is cut after this many bytes (`truncated`). */
  maxBytes: number;
}

export interface HttpToolResponse {
  kind: 'response';
  requestId: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
}

export interface HttpToolPort {
  request(caller: ToolCaller, req: HttpToolRequest): Promise<HttpToolResponse | PendingCall | RefusedCall>;
}

/* PostgreSQL */

export const SQL_TOOL_PORT = Symbol('airlock.ingress.sql-tool-port');

export interface SqlToolRequest {
  connection: string;
  sql: string;
  /** Bind parameters ($1, $2, ...), as text; with them the text must be a single statement. */
  params?: Array<string | null>;
  /** Rows kept per statement result; the rest are read and dropped (`truncated`). */
  maxRows: number;
}

/** A column as a result describes it. */
export interface SqlColumn {
  name: string;
  /** The type's name for common types, else `oid <n>`. */
  type: string;
  typeOid: number;
  /** The masking rule that replaces this column's every value, when one does. */
  maskedBy?: string;
}

export interface SqlStatementResult {
  command: string;
  columns: SqlColumn[];
  /** Values as text (the server's text format), null for SQL NULL; converted by the tool. */
  rows: Array<Array<string | null>>;
  /** Rows the statement returned, kept or not. */
  rowCount: number;
  truncated: boolean;
  /** How the statement's masking treats a table's column: the rule that masks it whole, or null. */
  columnMask?(schema: string, table: string, column: string): string | null;
}

export interface SqlToolResult {
  kind: 'rows';
  results: SqlStatementResult[];
  /** Set when a statement failed: the results before it are kept, the ones after were not run. */
  error?: { sqlstate: string; message: string };
}

export interface SqlToolPort {
  run(caller: ToolCaller, req: SqlToolRequest): Promise<SqlToolResult | PendingCall | RefusedCall>;
}
