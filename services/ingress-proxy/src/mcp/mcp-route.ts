import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { uuidv7, type Principal } from '@airlock/contracts';
import { TOKEN_VERIFIER, TokenRejectedError, bearerToken, type TokenVerifier } from '@airlock/identity';
import { ApprovalClient } from '../approval-client/approval.client';
import { AuditService } from '../audit/audit.service';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import { mcpAuthFailedDraft } from '../operation/operation-audit';
import { PolicyClient } from '../policy-client/policy-client.service';
import { HTTP_TOOL_PORT, SQL_TOOL_PORT, type HttpToolPort, type SqlToolPort } from '../tool-ports/tool-ports';
import { takeRequests } from '../server/take-requests';
import { registerTools } from './mcp-tools';

export const MCP_PATH = '/mcp';
const METADATA_PATH = '/.well-known/oauth-protected-resource';
/** The paths served here: the endpoint, and its metadata at the root and at the RFC 9728 suffixed path. */
const OWN_PATHS: ReadonlySet<string> = new Set([MCP_PATH, METADATA_PATH, `${METADATA_PATH}${MCP_PATH}`]);
/** The revisions this server speaks, newest first. */
export const MCP_PROTOCOL_VERSIONS = ['2025-06-18', '2025-03-26'] as const;

/**
 * The MCP front door: Streamable HTTP on `/mcp` (stateless: a server and transport per POST) and
 * the RFC 9728 metadata, on the ingress's HTTP port, served from the server's request event like
 * the HTTP data path. Checks run before anything is parsed: Origin, method, size, then the bearer
 * token through the same TokenVerifier. The token stays here: tools reach upstreams through the
 * adapters' ports, which use the vault's credentials.
 */
@Injectable()
export class McpRoute {
  private readonly logger = new Logger(McpRoute.name);
  /** Stateless: each client connection is an audit session. */
  private readonly sessions = new WeakMap<Socket, string>();

  constructor(
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Inject(INGRESS_CONFIG) private readonly config: IngressConfig,
    @Inject(HTTP_TOOL_PORT) private readonly http: HttpToolPort,
    @Inject(SQL_TOOL_PORT) private readonly sql: SqlToolPort,
    private readonly policy: PolicyClient,
    private readonly approvals: ApprovalClient,
    private readonly audit: AuditService,
  ) {}

  attach(server: Server): void {
    const pathOf = (url: string): string => url.split('?')[0];
    takeRequests(
      server,
      (url) => OWN_PATHS.has(pathOf(url)),
      (req, res) => {
        this.serve(req, res, pathOf(req.url ?? '/')).catch((err: unknown) => {
          this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'MCP request failed');
          if (!res.headersSent) rpcError(res, 500, -32603, 'internal error');
          else res.destroy();
        });
      },
    );
  }

  private async serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!this.originAllowed(req)) {
      plain(res, 403, { error: 'forbidden_origin', message: 'this Origin may not call the gateway' });
      return;
    }
    if (path !== MCP_PATH) {
      if (req.method !== 'GET')
        return plain(res, 405, { error: 'method_not_allowed', message: 'use GET' }, { allow: 'GET' });
      return plain(res, 200, this.metadata(req));
    }
    if (req.method !== 'POST') {
      // Stateless: no session to open a stream on (GET) or to end (DELETE).
      return plain(res, 405, { error: 'method_not_allowed', message: 'use POST' }, { allow: 'POST' });
    }
    const version = req.headers['mcp-protocol-version'];
    if (version !== undefined && !(MCP_PROTOCOL_VERSIONS as readonly string[]).includes(String(version))) {
      return rpcError(
        res,
        400,
        -32600,
        `unsupported MCP-Protocol-Version (supported: ${MCP_PROTOCOL_VERSIONS.join(', ')})`,
      );
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.config.MCP_MAX_BODY_BYTES) {
      req.resume();
      return rpcError(res, 413, -32600, `request body larger than ${this.config.MCP_MAX_BODY_BYTES} bytes`);
    }

    let principal: Principal;
    try {
      principal = await this.verifier.verify(bearerToken(req.headers));
    } catch (err) {
      if (!(err instanceof TokenRejectedError)) throw err;
      req.resume();
      await this.auditAuthFailure(req, err);
      const hasToken = typeof req.headers.authorization === 'string';
      const challenge =
        `Bearer resource_metadata="${this.baseUrl(req)}${METADATA_PATH}"` + (hasToken ? ', error="invalid_token"' : '');
      return rpcError(res, 401, -32001, err.message, { 'www-authenticate': challenge });
    }

    const raw = await readBody(req, this.config.MCP_MAX_BODY_BYTES);
    if (raw === undefined)
      return rpcError(res, 413, -32600, `request body larger than ${this.config.MCP_MAX_BODY_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return rpcError(res, 400, -32700, 'Parse error: the body is not JSON');
    }
    negotiate(body);

    const mcp = new McpServer({ name: 'airlock', version: '1.0.0' }, { capabilities: { tools: {} } });
    registerTools(mcp, {
      caller: {
        principal,
        sessionId: this.sessionOf(req.socket),
        client: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`,
        tls: (req.socket as TLSSocket).encrypted === true,
        holdWaitMs: this.config.MCP_APPROVAL_WAIT_MS,
      },
      http: this.http,
      sql: this.sql,
      policy: this.policy,
      approvals: this.approvals,
      config: this.config,
    });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      // Quick calls get JSON; a call that asked for progress gets an SSE stream to carry it.
      enableJsonResponse: !asksProgress(body),
    });
    res.once('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  /**
   * A browser page may call only from an origin configured as allowed, or from the gateway's own
   * public origin when MCP_PUBLIC_URL names it. Never from what the request's Host header says: a
   * DNS-rebinding page sends its own host there, and would match itself.
   */
  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    const o = origin.toLowerCase().replace(/\/$/, '');
    if (this.config.MCP_ALLOWED_ORIGINS.includes(o)) return true;
    const own = this.config.MCP_PUBLIC_URL;
    return own !== undefined && o === new URL(own).origin.toLowerCase();
  }

  private baseUrl(req: IncomingMessage): string {
    if (this.config.MCP_PUBLIC_URL) return this.config.MCP_PUBLIC_URL.replace(/\/$/, '');
    const tls = (req.socket as TLSSocket).encrypted === true;
    const host = /^[a-z0-9.:[\]-]+$/i.test(req.headers.host ?? '') ? req.headers.host : 'localhost';
    return `${tls ? 'https' : 'http'}://${host}`;
  }

  /** RFC 9728: the resource and the authorization servers whose tokens it accepts. */
  private metadata(req: IncomingMessage): Record<string, unknown> {
    return {
      resource: `${this.baseUrl(req)}${MCP_PATH}`,
      authorization_servers: this.config.OIDC_ISSUERS.map((i) => i.issuer),
      bearer_methods_supported: ['header'],
      resource_name: 'Airlock gateway',
    };
  }

  private sessionOf(socket: Socket): string {
    let id = this.sessions.get(socket);
    if (!id) this.sessions.set(socket, (id = uuidv7()));
    return id;
  }

  private async auditAuthFailure(req: IncomingMessage, rejection: TokenRejectedError): Promise<void> {
    try {
      await this.audit.emit(
        mcpAuthFailedDraft(
          { sessionId: this.sessionOf(req.socket), requestId: uuidv7() },
          { code: rejection.code, reason: rejection.message, method: req.method ?? 'POST', path: MCP_PATH },
        ),
      );
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message },
        'audit event of an authentication failure could not be published',
      );
    }
  }
}

/** An initialize asking for a revision this server does not speak gets the newest it does. */
function negotiate(body: unknown): void {
  for (const m of Array.isArray(body) ? body : [body]) {
    if (!isObject(m) || m.method !== 'initialize' || !isObject(m.params)) continue;
    const asked = m.params.protocolVersion;
    if (!(MCP_PROTOCOL_VERSIONS as readonly unknown[]).includes(asked))
      m.params.protocolVersion = MCP_PROTOCOL_VERSIONS[0];
  }
}

function asksProgress(body: unknown): boolean {
  return (Array.isArray(body) ? body : [body]).some(
    (m) => isObject(m) && isObject(m.params) && isObject(m.params._meta) && m.params._meta.progressToken !== undefined,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function plain(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(json);
}

/** A JSON-RPC error answer with no id (the request was not read as one). */
function rpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  plain(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}
