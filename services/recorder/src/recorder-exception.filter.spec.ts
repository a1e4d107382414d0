import { Logger, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { lastValueFrom, type Observable } from 'rxjs';
import type { AuditEventDraft, Principal } from '@airlock/contracts';
import { TokenRejectedError, tokenRejectionToHttpException } from '@airlock/identity';
import { HealthController } from '@airlock/runtime';
import { ForbiddenError, NotFoundError, UnavailableError } from './errors';
import { RecorderExceptionFilter } from './recorder-exception.filter';
import type { RecorderAudit } from './publishing/recorder-audit.service';

interface Answer {
  status?: number;
  headers: Record<string, string>;
  body?: unknown;
  destroyed: boolean;
}

function harness({ sent = false, failAudit = false } = {}) {
  const published: AuditEventDraft[] = [];
  const audit = {
    emit: jest.fn(async (...drafts: AuditEventDraft[]) => {
      if (failAudit) throw new Error('broker down');
      published.push(...drafts);
      return [];
    }),
  };
  const filter = new RecorderExceptionFilter(audit as unknown as RecorderAudit);
  const answer: Answer = { headers: {}, destroyed: false };
  const reply = {
    sent,
    raw: { headersSent: sent, destroy: () => (answer.destroyed = true) },
    code(status: number) {
      answer.status = status;
      return reply;
    },
    header(name: string, value: string) {
      answer.headers[name] = value;
      return reply;
    },
    async send(body: unknown) {
      answer.body = body;
    },
  };
  const host = (req: { method?: string; url?: string; user?: Principal }): ArgumentsHost =>
    ({
      getType: () => 'http',
      switchToHttp: () => ({
        getRequest: () => ({ method: 'GET', url: '/audit/sessions?principal=x', ...req }),
        getResponse: () => reply,
      }),
    }) as unknown as ArgumentsHost;
  const answerTo = async (exception: unknown, req: { method?: string; url?: string; user?: Principal } = {}) => {
    await filter.catch(exception, host(req));
    return answer;
  };
  return { answerTo, published, audit };
}

const auditor: Principal = { issuer: 'https://idp', subject: 'someone', groups: ['agents'] };

describe('the recorder exception filter', () => {
  let errors: jest.SpyInstance;
  let warnings: jest.SpyInstance;
  beforeEach(() => {
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers a recorder error with its status, code and public message, uncached', async () => {
    const { answerTo, published } = harness();
    const a = await answerTo(new NotFoundError('no events of session x are stored'));
    expect(a.status).toBe(404);
    expect(a.body).toEqual({ error: 'not_found', message: 'no events of session x are stored' });
    expect(a.headers).toEqual({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    expect(published).toHaveLength(0);
  });

  it('keeps the cause of a recorder error in the logs only', async () => {
    const { answerTo } = harness();
    const cause = new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
    const a = await answerTo(new UnavailableError('the audit store is unavailable; try again later', { cause }));
    expect(a.status).toBe(503);
    expect(a.body).toEqual({ error: 'store_unavailable', message: 'the audit store is unavailable; try again later' });
    expect(JSON.stringify(a.body)).not.toContain('ECONNREFUSED');
    expect(warnings).toHaveBeenCalledWith(
      { err: expect.stringContaining('ECONNREFUSED') },
      'the audit store is unavailable; try again later',
    );
  });

  it('answers a caller outside the auditor group with 403 and audits the refusal with the caller', async () => {
    const { answerTo, published } = harness();
    const a = await answerTo(new ForbiddenError('the audit API is for members of the auditor group'), {
      user: auditor,
    });
    expect(a.status).toBe(403);
    expect(a.body).toEqual({ error: 'forbidden', message: 'the audit API is for members of the auditor group' });
    expect(published).toEqual([
      {
        type: 'auth.failed',
        sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        actor: auditor,
        connection: null,
        protocol: 'http',
        source: 'recorder',
        data: {
          code: 'forbidden',
          reason: 'the audit API is for members of the auditor group',
          method: 'GET',
          path: '/audit/sessions',
        },
      },
    ]);
  });

  it.each(['missing', 'expired', 'signature', 'untrusted_issuer'] as const)(
    'answers a refused token (%s) with 401 and audits it without an actor',
    async (code) => {
      const { answerTo, published } = harness();
      const a = await answerTo(tokenRejectionToHttpException(new TokenRejectedError(code)), {
        url: '/audit/export?from=x',
      });
      expect(a.status).toBe(401);
      expect(a.body).toEqual({ error: 'unauthorized', message: new TokenRejectedError(code).message });
      expect(published).toHaveLength(1);
      expect(published[0]).toMatchObject({
        type: 'auth.failed',
        actor: null,
        source: 'recorder',
        data: { code, method: 'GET', path: '/audit/export' },
      });
    },
  );

  it('answers 503 when the token issuer cannot be reached', async () => {
    const { answerTo } = harness();
    const a = await answerTo(tokenRejectionToHttpException(new TokenRejectedError('jwks_unavailable')));
    expect(a.status).toBe(503);
    expect(a.body).toMatchObject({ error: 'identity_unavailable' });
  });

  it('still answers a refusal whose audit event cannot be published, and logs that', async () => {
    const { answerTo } = harness({ failAudit: true });
    const a = await answerTo(tokenRejectionToHttpException(new TokenRejectedError('missing')));
    expect(a.status).toBe(401);
    expect(errors).toHaveBeenCalledWith(
      { err: 'broker down' },
      'audit event of a refused audit API call could not be published',
    );
  });

  it("answers Nest's own HTTP errors with a stable code and their short text", async () => {
    const { answerTo, published } = harness();
    const a = await answerTo(new NotFoundException('Cannot GET /audit/nothing'));
    expect(a.status).toBe(404);
    expect(a.body).toEqual({ error: 'not_found', message: 'Cannot GET /audit/nothing' });
    expect(published).toHaveLength(0);
  });

  it('passes the 503 health report through unchanged', async () => {
    const { answerTo } = harness();
    const health = new HealthController(
      [{ name: 'database', check: () => Promise.reject(new Error('down')) }],
      'recorder',
    );
    const exception = await health.health().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(exception).toBeDefined();
    const a = await answerTo(exception);
    expect(a.status).toBe(503);
    expect(a.body).toEqual({
      service: 'recorder',
      status: 'unavailable',
      checks: { database: { status: 'failed', error: 'down' } },
    });
  });

  it('answers an unknown error generically and logs it', async () => {
    const { answerTo } = harness();
    const a = await answerTo(new TypeError("Cannot read properties of undefined (reading 'rows')"));
    expect(a.status).toBe(500);
    expect(a.body).toEqual({ error: 'internal', message: 'internal error' });
    expect(errors).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.stringContaining("reading 'rows'"), method: 'GET' }),
      'unexpected error',
    );
  });

  it('cuts the connection when part of the answer has gone out already (a stream failed midway)', async () => {
    const { answerTo } = harness({ sent: true });
    const a = await answerTo(new Error('connection terminated'));
    expect(a.destroyed).toBe(true);
    expect(a.status).toBeUndefined();
  });

  it('gives a Kafka handler the generic error shape and logs the error', async () => {
    const filter = new RecorderExceptionFilter(harness().audit as unknown as RecorderAudit);
    const host = { getType: () => 'rpc' } as unknown as ArgumentsHost;
    const result = filter.catch(new Error('boom'), host) as Observable<never>;
    await expect(lastValueFrom(result)).rejects.toEqual({ status: 'error', message: 'internal error' });
    expect(errors).toHaveBeenCalledWith({ err: expect.stringContaining('boom') }, 'unexpected error handling an event');
  });
});
