import type { DataSource } from 'typeorm';
import { UnavailableError } from '../errors';
import { ReplayRepository, isUnavailable } from './replay.repository';

function repository(answer: (sql: string, params: unknown[]) => Promise<unknown>) {
  const calls: { sql: string; params: unknown[] }[] = [];
  const db = {
    query: (sql: string, params: unknown[]) => {
      calls.push({ sql, params });
      return answer(sql, params);
    },
  };
  return { repo: new ReplayRepository(db as unknown as DataSource), calls };
}

const range = { from: '2026-11-24T12:00:00.000Z', to: '2026-11-25T12:00:00.000Z' };

describe('the replay repository', () => {
  it('passes every value as a parameter, never in the statement', async () => {
    const { repo, calls } = repository(async () => []);
    const hostile = "x'); DROP TABLE audit_event; --";
    await repo.sessions({
      range,
      subject: hostile,
      issuer: hostile,
      connection: 'demo',
      protocol: 'http',
      decision: 'deny',
      hasMasking: false,
      after: { startedAt: '2026-11-25T11:00:00.000001Z', sessionId: '019abcde-0000-7000-8000-00000000000a' },
      limit: 51,
    });
    await repo.sessionEvents('019abcde-0000-7000-8000-00000000000a', { chain: 3, seq: '17' }, 101);
    await repo.exportPage(range, { chain: -1, seq: '0' }, 1000);
    for (const c of calls) expect(c.sql).not.toContain('DROP');
    expect(calls[0].params).toEqual([
      range.from,
      range.to,
      hostile,
      hostile,
      'demo',
      'http',
      'deny',
      false,
      '2026-11-25T11:00:00.000001Z',
      '019abcde-0000-7000-8000-00000000000a',
      51,
    ]);
    expect(calls[1].params).toEqual(['019abcde-0000-7000-8000-00000000000a', '17', 3, 101]);
    expect(calls[2].params).toEqual([range.from, range.to, -1, '0', 1000]);
  });

  it('reads sessions from their summaries by start time, and exports by a range of ids (only its partitions)', async () => {
    const { repo, calls } = repository(async () => []);
    await repo.sessions({
      range,
      subject: null,
      issuer: null,
      connection: null,
      protocol: null,
      decision: null,
      hasMasking: null,
      after: null,
      limit: 2,
    });
    await repo.exportPage(range, { chain: -1, seq: '0' }, 1000);
    expect(calls[0].sql).toContain('FROM audit_session');
    expect(calls[0].sql).toContain('first_at >= $1::timestamptz AND first_at < $2::timestamptz');
    expect(calls[1].sql).toContain(
      'id >= audit_uuid_floor($1::timestamptz) AND id < audit_uuid_floor($2::timestamptz)',
    );
  });

  it('answers 503 when the store does not answer, and lets a refused statement through as a fault', async () => {
    const down = repository(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    await expect(down.repo.sessionExists('019abcde-0000-7000-8000-00000000000a')).rejects.toThrow(UnavailableError);
    const broken = repository(async () => {
      throw Object.assign(new Error('column "x" does not exist'), { driverError: { code: '42703' } });
    });
    await expect(broken.repo.sessionExists('019abcde-0000-7000-8000-00000000000a')).rejects.toThrow(
      'column "x" does not exist',
    );
  });

  it.each([
    ['a lost connection', { driverError: { code: '08006' } }, true],
    ['too many connections', { code: '53300' }, true],
    ['a cancelled statement', { driverError: { code: '57014' } }, true],
    ['a refused connection', { code: 'ECONNREFUSED' }, true],
    ['a terminated connection (no code)', {}, true],
    ['a syntax error', { driverError: { code: '42601' } }, false],
    ['a bad parameter', { driverError: { code: '22P02' } }, false],
  ])('%s is unavailability: %s', (_what, err, unavailable) => {
    expect(isUnavailable(Object.assign(new Error('x'), err))).toBe(unavailable);
  });
});
