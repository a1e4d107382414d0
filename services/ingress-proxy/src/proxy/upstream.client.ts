import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import type { HttpConnection } from '../connections/connection.registry';

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

/** Credentials the agent may send; the upstream only ever sees the gateway's. */
const AGENT_CREDENTIALS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-auth-token']);

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Readable;
}

/** Keep-alive connection pools to each connection's upstream. */
@Injectable()
export class UpstreamClient implements OnApplicationShutdown {
  private readonly pools = new Map<string, Pool>();

  constructor(@Inject(INGRESS_CONFIG) private readonly config: IngressConfig) {}

  private pool(connection: HttpConnection): Pool {
    let pool = this.pools.get(connection.name);
    if (!pool) {
      pool = new Pool(connection.upstream.origin, {
        connections: this.config.UPSTREAM_CONNECTIONS,
        headersTimeout: this.config.UPSTREAM_TIMEOUT_MS,
        bodyTimeout: this.config.UPSTREAM_TIMEOUT_MS,
        keepAliveTimeout: 30000,
      });
      this.pools.set(connection.name, pool);
    }
    return pool;
  }

  async forward(
    connection: HttpConnection,
    req: {
      method: string;
      path: string;
      query: string;
      headers: IncomingHttpHeaders;
      body?: Readable;
      requestId: string;
      clientIp: string;
    },
  ): Promise<UpstreamResponse> {
    const base = connection.upstream.pathname.replace(/\/$/, '');
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || AGENT_CREDENTIALS.has(name)) continue;
      headers[name] = value;
    }
    const forwardedFor = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${req.clientIp}` : req.clientIp;
    headers['x-request-id'] = req.requestId;
    const hasBody = req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
    if (!hasBody) delete headers['content-length'];
    const res = await this.pool(connection).request({
      method: req.method as 'GET',
      path: `${base}${req.path}${req.query}`,
      headers,
      body: hasBody ? req.body : undefined,
    });
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      out[name] = value;
    }
    return { status: res.statusCode, headers: out, body: res.body };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((p) => p.close()));
  }
}
