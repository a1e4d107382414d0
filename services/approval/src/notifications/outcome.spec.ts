import {
  DEFAULT_RETRY_AFTER_MS,
  MAX_RETRY_AFTER_MS,
  MIN_RETRY_AFTER_MS,
  httpOutcome,
  networkOutcome,
  parseRetryAfter,
  smtpOutcome,
} from './outcome';

const NOW = Date.parse('2025-12-05T12:00:00Z');

describe('Retry-After', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('2', NOW)).toBe(2000);
    expect(parseRetryAfter(' 30 ', NOW)).toBe(30_000);
  });

  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Fri, 05 Dec 2025 12:00:07 GMT', NOW)).toBe(7000);
  });

  it('falls back to the default when absent or garbled', () => {
    for (const v of [null, undefined, '', 'soon', '-5', '1.5', '2025-12-05T12:00:07Z', 'Fri, 99 Foo 2025']) {
      expect(parseRetryAfter(v, NOW)).toBe(DEFAULT_RETRY_AFTER_MS);
    }
  });

  it('is bounded: never a tight loop, never a stop of hours', () => {
    expect(parseRetryAfter('0', NOW)).toBe(MIN_RETRY_AFTER_MS);
    expect(parseRetryAfter('Fri, 05 Dec 2025 11:00:00 GMT', NOW)).toBe(MIN_RETRY_AFTER_MS);
    expect(parseRetryAfter('86400', NOW)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('99999999999999999999', NOW)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('webhook outcomes', () => {
  it('2xx is delivered', () => {
    expect(httpOutcome(200, null, 'ok', NOW)).toEqual({ kind: 'delivered' });
    expect(httpOutcome(204, null, '', NOW)).toEqual({ kind: 'delivered' });
  });

  it('429 waits as told, without counting an attempt', () => {
    expect(httpOutcome(429, '3', 'rate_limited', NOW)).toEqual({
      kind: 'rate-limited',
      waitMs: 3000,
      reason: 'HTTP 429: rate_limited',
    });
    expect(httpOutcome(429, null, '', NOW)).toMatchObject({ kind: 'rate-limited', waitMs: DEFAULT_RETRY_AFTER_MS });
  });

  it('5xx and 408 are retried', () => {
    for (const s of [500, 502, 503, 504, 408]) expect(httpOutcome(s, null, 'x', NOW).kind).toBe('retry');
  });

  it('other answers are permanent', () => {
    for (const s of [301, 302, 400, 401, 403, 404, 410, 413])
      expect(httpOutcome(s, null, '', NOW).kind).toBe('permanent');
    expect(httpOutcome(404, null, 'no_service', NOW)).toEqual({ kind: 'permanent', reason: 'HTTP 404: no_service' });
  });

  it('keeps a reason to one short line', () => {
    const o = httpOutcome(400, null, 'invalid_blocks\r\nSet-Cookie: x\n' + 'y'.repeat(5000), NOW);
    expect(o.kind === 'permanent' && o.reason).toMatch(/^HTTP 400: invalid_blocks Set-Cookie: x y+$/);
    expect(o.kind === 'permanent' && o.reason.length).toBeLessThanOrEqual(300);
  });

  it('network errors and timeouts are retried, named by code only', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443 /services/T/B/secret'), {
        code: 'ECONNREFUSED',
      }),
    });
    expect(networkOutcome(refused, 5000)).toEqual({ kind: 'retry', reason: 'network error (ECONNREFUSED)' });
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(networkOutcome(timeout, 5000)).toEqual({ kind: 'retry', reason: 'no answer within 5000 ms' });
    expect(networkOutcome(new Error('boom'), 5000)).toEqual({ kind: 'retry', reason: 'network error (Error)' });
  });
});

describe('SMTP outcomes', () => {
  const smtpError = (fields: Record<string, unknown>): Error => Object.assign(new Error('smtp'), fields);

  it('a 5xx answer is permanent', () => {
    const o = smtpOutcome(
      smtpError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 mailbox unavailable' }),
      1,
    );
    expect(o).toEqual({ kind: 'permanent', reason: 'SMTP 550 5.1.1 mailbox unavailable' });
    expect(smtpOutcome(smtpError({ code: 'EAUTH', responseCode: 535 }), 1)).toEqual({
      kind: 'permanent',
      reason: 'SMTP 535',
    });
  });

  it('503 (bad sequence) and 4xx answers are retried', () => {
    expect(smtpOutcome(smtpError({ code: 'EPROTOCOL', responseCode: 503, response: '503 bad sequence' }), 1).kind).toBe(
      'retry',
    );
    expect(smtpOutcome(smtpError({ code: 'EMESSAGE', responseCode: 451, response: '451 try later' }), 1)).toEqual({
      kind: 'retry',
      reason: 'SMTP 451 try later',
    });
    expect(smtpOutcome(smtpError({ responseCode: 421 }), 1).kind).toBe('retry');
  });

  it('connection refused, timeouts and dropped sockets are retried', () => {
    expect(smtpOutcome(smtpError({ code: 'ESOCKET', originalCode: 'ECONNREFUSED' }), 1)).toEqual({
      kind: 'retry',
      reason: 'SMTP ESOCKET (ECONNREFUSED)',
    });
    expect(smtpOutcome(smtpError({ code: 'ETIMEDOUT' }), 1).kind).toBe('retry');
    expect(smtpOutcome(smtpError({ code: 'ECONNECTION' }), 1).kind).toBe('retry');
    expect(smtpOutcome(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'EABORT' }), 2500)).toEqual({
      kind: 'retry',
      reason: 'SMTP conversation not finished within 2500 ms',
    });
  });

  it('a message or settings nodemailer refuses itself is permanent', () => {
    expect(smtpOutcome(smtpError({ code: 'ENOAUTH' }), 1).kind).toBe('permanent');
    expect(smtpOutcome(smtpError({ code: 'EENVELOPE' }), 1).kind).toBe('permanent');
  });

  it('anything else is retried', () => {
    expect(smtpOutcome('weird', 1)).toEqual({ kind: 'retry', reason: 'SMTP error' });
    expect(smtpOutcome(null, 1).kind).toBe('retry');
  });
});
