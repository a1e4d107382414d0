import { Module } from '@nestjs/common';
import { McpRoute } from './mcp-route';

/**
 * The MCP adapter: `/mcp` (Streamable HTTP) on the ingress HTTP port, tools for agents such as
 * GitHub Copilot. It never decides, masks, holds or audits an operation itself, and it imports
 * neither the HTTP nor the PostgreSQL adapter: each of those provides a port (tool-ports/, a
 * neutral contract) through which a tool call runs that adapter's own path (canonical request and
 * credential injection; statement classification and masking by data flow) and the operation
 * pipeline. A port rather than moving that code to a shared home: the SQL path is a stateful
 * relay whose masking depends on the session (prepared statements, search_path, the catalog), and
 * the way to give a tool exactly the wire path's guarantees is to run a session of it in-process.
 */
@Module({
  providers: [McpRoute],
  exports: [McpRoute],
})
export class McpAdapterModule {}
