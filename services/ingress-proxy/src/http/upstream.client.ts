import { HOP_BY_HOP } from './request-headers';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { LeaseSecret } from '@airlock/contracts';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import { injectCredential, stripAgentCredentials, type OutgoingHeaders } from '../credentials/credential-injector';

/** Whether a request of this method carries its body upstream (GET and HEAD never do). */
export function sendsBody(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** Where a request goes, and with which credential. */
export interface UpstreamTarget {
  upstream: URL;
  /** Credential headers the connection declares: dropped from the agent's request. */
  agentCredentialHeaders: readonly string[];
  credential?: LeaseSecret;
  /** The response will be masked: ask for it uncompressed. */
  identityEncoding: boolean;
}

export interface UpstreamRequest {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body?: Readable;
  requestId: string;
  clientIp: string;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Readable;
}

/** Keep-alive connection pools to the upstreams; injects the connection's credential. */
@Injectable()
export class UpstreamClient implements OnApplicationShutdown {
  private readonly pools = new Map<string, Pool>();

  constructor(@Inject(INGRESS_CONFIG) private readonly config: IngressConfig) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.config.UPSTREAM_CONNECTIONS,
        headersTimeout: this.config.UPSTREAM_TIMEOUT_MS,
        bodyTimeout: this.config.UPSTREAM_TIMEOUT_MS,
        keepAliveTimeout: 30000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async forward(target: UpstreamTarget, req: UpstreamRequest): Promise<UpstreamResponse> {
    const base = target.upstream.pathname.replace(/\/$/, '');
    const path = `${base}${req.path}${req.query}`;
    const headers: OutgoingHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      headers[name] = value;
    }
    stripAgentCredentials(headers, target.agentCredentialHeaders);
    const forwardedFor = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${req.clientIp}` : req.clientIp;
    headers['x-request-id'] = req.requestId;
    if (target.identityEncoding) headers['accept-encoding'] = 'identity';
    const hasBody = req.body !== undefined && sendsBody(req.method);
    if (!hasBody) delete headers['content-length'];
    if (target.credential) {
      await injectCredential(target.credential, headers, {
        method: req.method,
        url: new URL(path, target.upstream.origin),
      });
    }
    const res = await this.pool(target.upstream.origin).request({
      method: req.method as 'GET',
      path,
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
