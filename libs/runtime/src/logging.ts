import { LoggerModule } from 'nestjs-pino';
import type { DynamicModule } from '@nestjs/common';

/**
 * Paths pino replaces with "[REDACTED]" wherever a service logs them. Secrets must never be
 * logged in the first place; this list is the net under that rule.
 */
export const REDACT_PATHS = [
  'authorization',
  'password',
  'token',
  'secret',
  'credential',
  'cookie',
  'apiKey',
  'api_key',
  'accessToken',
  'refreshToken',
  'privateKey',
  // Kafka's SASL settings (a whole kafkajs client config logged by mistake) and signing keys.
  'sasl',
  'KAFKA_SASL_PASSWORD',
  'signingKey',
]
  .flatMap((k) => [k, `*.${k}`, `*.*.${k}`])
  .concat([
    'req.headers.authorization',
    'req.headers.cookie',
    'req.headers["x-api-key"]',
    'res.headers["set-cookie"]',
    'headers.authorization',
    'headers.cookie',
  ]);

/**
 * pino for Nest. No route gets a per-request logger: nestjs-pino binds one with
 * AsyncLocalStorage, and on Node 20 its first use turns on V8's promise hooks for the rest of the
 * process's life, a cost on every promise of every Kafka fetch, query and proxied operation (one
 * health probe would be enough). Log lines carry the service and the logger's context instead.
 */
export function loggerModule(
  service: string,
  level: string,
  /** More fields on every line (which thread of the service wrote it). */
  fields: Record<string, string | number> = {},
): DynamicModule {
  return LoggerModule.forRoot({
    forRoutes: [],
    pinoHttp: {
      level,
      name: service,
      base: { ...fields, service },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    },
  });
}
