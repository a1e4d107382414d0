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

const ConnectionsFileSchema = z.object({ connections: z.record(ConnectionNameSchema, ConnectionSchema) }).strict();

export interface HttpConnection {
  name: string;
  protocol: 'http';
  upstream: URL;
}

/** Connections from configuration (name → upstream), read once at start. */
@Injectable()
export class ConnectionRegistry {
  private readonly byName: Map<string, HttpConnection>;

  constructor(@Inject(INGRESS_CONFIG) config: IngressConfig) {
    this.byName = ConnectionRegistry.load(config.CONNECTIONS_FILE);
  }

  static load(file: string): Map<string, HttpConnection> {
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
    return new Map(
      Object.entries(r.data.connections).map(([name, c]) => [
        name,
        { name, protocol: c.protocol, upstream: new URL(c.upstream) },
      ]),
    );
  }

  get(name: string): HttpConnection | undefined {
    return this.byName.get(name);
  }

  all(): HttpConnection[] {
    return [...this.byName.values()];
  }
}
