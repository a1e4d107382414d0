import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACT_PATHS } from './logging';

describe('log redaction', () => {
  it('never writes a Kafka password or SASL settings, even when a whole client config is logged', () => {
    const secret = `kafka-password-${Math.random().toString(36).slice(2)}`;
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => ((out += chunk.toString()), done()) });
    const logger = pino({ redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } }, sink);
    logger.info({ sasl: { mechanism: 'scram-sha-512', username: 'policy', password: secret } }, 'kafka client');
    logger.info({ config: { KAFKA_SASL_PASSWORD: secret } }, 'settings');
    logger.info({ kafka: { password: secret } }, 'nested');
    // The scanner finds the secret where it is put on purpose, in an unredacted field.
    logger.info({ note: secret }, 'control');
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).join('\n')).not.toContain(secret);
    expect(lines[3]).toContain(secret);
  });
});

describe('logger module', () => {
  // AsyncLocalStorage.run turns on V8's promise hooks for the rest of the process's life (Node 20):
  // from then on every promise of every Kafka fetch, database query and proxied operation pays for
  // them. One probe or scrape would be enough, so no request may enter it.
  it('binds no per-request logger: an HTTP request does not turn on async context tracking', async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const { Controller, Get, Logger, Module } = await import('@nestjs/common');
    const { NestFactory } = await import('@nestjs/core');
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    const { loggerModule } = await import('./logging');
    const run = jest.spyOn(AsyncLocalStorage.prototype, 'run');
    const enterWith = jest.spyOn(AsyncLocalStorage.prototype, 'enterWith');
    const lines: string[] = [];
    @Controller()
    class Probe {
      private readonly logger = new Logger('probe');
      @Get('livez')
      live(): { ok: true } {
        this.logger.log('probed');
        return { ok: true };
      }
    }
    @Module({ imports: [loggerModule('probe-service', 'info')], controllers: [Probe] })
    class ProbeModule {}
    const app = await NestFactory.create(ProbeModule, new FastifyAdapter(), { logger: false });
    const { Logger: PinoNestLogger } = await import('nestjs-pino');
    app.useLogger(app.get(PinoNestLogger));
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(chunk.toString());
      return true;
    });
    try {
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
      const res = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/livez' });
      expect(res.statusCode).toBe(200);
    } finally {
      write.mockRestore();
      await app.close();
      run.mockRestore();
      enterWith.mockRestore();
    }
    expect(run).not.toHaveBeenCalled();
    expect(enterWith).not.toHaveBeenCalled();
    // Logging still works: the line is written with the service's name.
    expect(lines.join('')).toMatch(/"service":"probe-service".*"msg":"probed"/);
  });
});
