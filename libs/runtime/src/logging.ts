import { LoggerModule } from 'nestjs-pino';
import { RequestMethod, type DynamicModule } from '@nestjs/common';

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
 * pino for Nest. `quietPaths` are routes that get no per-request logger (the proxy's data path,
 * which writes its own audit trail and must not pay for a child logger per request).
 */
export function loggerModule(service: string, level: string, quietPaths: string[] = []): DynamicModule {
  return LoggerModule.forRoot({
    exclude: quietPaths.map((path) => ({ method: RequestMethod.ALL, path })),
    pinoHttp: {
      level,
      name: service,
      base: { service },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      // The data path writes its own audit trail; a log line per request would only cost throughput.
      autoLogging: false,
      quietReqLogger: true,
    },
  });
}
