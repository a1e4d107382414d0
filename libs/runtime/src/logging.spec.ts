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
