import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConnectionNameSchema } from '@airlock/contracts';
import { ConfigError } from '@airlock/runtime';
import { INGRESS_CONFIG, type IngressConfig } from '../config';

const ConnectionSchema = z
  .object({
    protocol: z.literal('http'),
    upstream: z.url({ protocol: /^https?$/ }).refine((u) => !new URL(u).username && !new URL(u).password, {
      message: 'upstream URLs carry no credentials (the vault holds them)',
    }),
  })
  .strict();

/**
 * How a connection's upstream reads a request (docs/policy-http.md): whether it tells paths
 * apart by case, whether ";" in a path is a literal character (S3) or is refused, and whether
 * method-override and URL-rewrite headers are dropped or make the gateway refuse the request.
 */
const HttpSettingsSchema = z
  .object({
    pathCase: z.enum(['insensitive', 'sensitive']).optional(),
    pathParameters: z.enum(['refuse', 'literal']).optional(),
    rewriteHeaders: z.enum(['drop', 'refuse']).optional(),
  })
  .strict();
export type HttpSettings = z.infer<typeof HttpSettingsSchema>;

const ConnectionsFileSchema = z
  .object({
    connections: z.record(ConnectionNameSchema, ConnectionSchema),
    /** Per connection name, configured here or held by the vault. */
    httpSettings: z.record(ConnectionNameSchema, HttpSettingsSchema).optional(),
  })
  .strict();

export interface HttpConnection {
  name: string;
  protocol: 'http';
  upstream: URL;
}

/** Connections from configuration (name → upstream), read once at start. */
@Injectable()
export class ConnectionRegistry {
  private readonly byName: Map<string, HttpConnection>;
  private readonly httpSettings: Map<string, HttpSettings>;

  constructor(@Inject(INGRESS_CONFIG) config: IngressConfig) {
    ({ connections: this.byName, httpSettings: this.httpSettings } = ConnectionRegistry.read(config.CONNECTIONS_FILE));
  }

  static load(file: string): Map<string, HttpConnection> {
    return ConnectionRegistry.read(file).connections;
  }

  static read(file: string): { connections: Map<string, HttpConnection>; httpSettings: Map<string, HttpSettings> } {
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError([`CONNECTIONS_FILE: cannot read ${file}: ${(err as Error).message}`]);
    }
    const r = ConnectionsFileSchema.safeParse(raw);
    if (!r.success) {
      throw new ConfigError(r.error.issues.map((i) => `CONNECTIONS_FILE ${file}: ${i.path.join('.')}: ${i.message}`));
    }
    const connections = new Map(
      Object.entries(r.data.connections).map(([name, c]) => [
        name,
        { name, protocol: c.protocol as 'http', upstream: new URL(c.upstream) },
      ]),
    );
    return { connections, httpSettings: new Map(Object.entries(r.data.httpSettings ?? {})) };
  }

  /** What the connection declares about its upstream; empty when it declares nothing. */
  settings(name: string): HttpSettings {
    return this.httpSettings.get(name) ?? {};
  }

  get(name: string): HttpConnection | undefined {
    return this.byName.get(name);
  }

  all(): HttpConnection[] {
    return [...this.byName.values()];
  }
}
