import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { PendingCall, RefusedCall } from '../tool-ports/tool-ports';

/**
 * The one place where a refusal becomes an MCP answer: a tool result with `isError: true` carrying
 * the gateway's public reason (and the SQLSTATE or HTTP status), never a JSON-RPC error. Messages
 * are the ports' public messages: no credential, token or internal cause reaches them.
 */
export function refusedResult(r: RefusedCall): CallToolResult {
  const body = {
    error: r.code ?? (r.sqlstate ? 'sql_error' : 'refused'),
    message: r.message,
    ...(r.status !== undefined ? { status: r.status } : {}),
    ...(r.sqlstate !== undefined ? { sqlstate: r.sqlstate } : {}),
    ...(r.requestId !== undefined ? { requestId: r.requestId } : {}),
  };
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
}

/** Bad tool input the SDK's schema check let through (a path without `/`, a header not allowed). */
export function badInput(message: string): CallToolResult {
  const body = { error: 'bad_input', message };
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
}

/**
 * A call still waiting for a person when the tool's wait ended. Not an error: the model is told
 * how to continue (approval_status, then the same call again, which the approval lets through).
 */
export function pendingResult(p: PendingCall, tool: string): CallToolResult {
  const body = {
    status: 'pending_approval',
    approvalId: p.approvalId,
    ...(p.url ? { url: p.url } : {}),
    expiresAt: p.expiresAt,
    ...(p.requestId ? { requestId: p.requestId } : {}),
    next:
      `A person must approve this call. Check it with approval_status {"approvalId": "${p.approvalId}"}; ` +
      `once approved, call ${tool} again with exactly the same arguments.`,
  };
  return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
}

export function jsonResult(body: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
}
