import { InvalidInputError } from '../../errors';
import {
  ExportQuerySchema,
  SessionEventsQuerySchema,
  SessionIdSchema,
  SessionsQuerySchema,
  parseInput,
} from './replay-query.dto';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInputError) return err.publicMessage;
    throw err;
  }
  throw new Error('expected an InvalidInputError');
}

describe('replay query strings', () => {
  it('fills in the defaults of a bare session listing', () => {
    expect(parseInput(SessionsQuerySchema, {})).toEqual({ limit: 50 });
    expect(parseInput(SessionEventsQuerySchema, {})).toEqual({ limit: 100 });
    expect(parseInput(ExportQuerySchema, {})).toEqual({});
  });

  it('takes every filter of the session listing, as a query string carries them', () => {
    const q = parseInput(SessionsQuerySchema, {
      principal: 'agent-7',
      issuer: 'https://idp.example',
      connection: 'orders-db',
      protocol: 'postgres',
      from: '2026-11-01T00:00:00Z',
      to: '2026-11-02T00:00:00+01:00',
      decision: 'review',
      hasMasking: 'false',
      limit: '200',
      cursor: 'abc',
    });
    expect(q).toEqual({
      principal: 'agent-7',
      issuer: 'https://idp.example',
      connection: 'orders-db',
      protocol: 'postgres',
      from: '2026-11-01T00:00:00Z',
      to: '2026-11-02T00:00:00+01:00',
      decision: 'review',
      hasMasking: false,
      limit: 200,
      cursor: 'abc',
    });
    expect(parseInput(SessionsQuerySchema, { hasMasking: 'true' }).hasMasking).toBe(true);
  });

  it('keeps limits within their bounds', () => {
    expect(problem(() => parseInput(SessionsQuerySchema, { limit: '0' }))).toMatch(/^limit: /);
    expect(problem(() => parseInput(SessionsQuerySchema, { limit: '201' }))).toMatch(/^limit: /);
    expect(problem(() => parseInput(SessionsQuerySchema, { limit: '2.5' }))).toMatch(/^limit: /);
    expect(problem(() => parseInput(SessionsQuerySchema, { limit: 'ten' }))).toMatch(/^limit: /);
    expect(parseInput(SessionEventsQuerySchema, { limit: '500' }).limit).toBe(500);
    expect(problem(() => parseInput(SessionEventsQuerySchema, { limit: '501' }))).toMatch(/^limit: /);
  });

  it('names every parameter at fault, and unknown ones, without echoing values', () => {
    const message = problem(() =>
      parseInput(SessionsQuerySchema, {
        decision: 'maybe-<script>',
        hasMasking: 'yes',
        from: 'yesterday',
        protocol: 'ftp',
        subject: 'x',
      }),
    );
    expect(message).toMatch(/decision: /);
    expect(message).toMatch(/hasMasking: /);
    expect(message).toMatch(/from: /);
    expect(message).toMatch(/protocol: /);
    expect(message).toMatch(/unknown parameter subject/);
    expect(message).not.toContain('<script>');
    expect(message).not.toContain('yesterday');
  });

  it('refuses a parameter given twice (the query string parser makes it a list)', () => {
    expect(problem(() => parseInput(SessionsQuerySchema, { principal: ['a', 'b'] }))).toMatch(/^principal: /);
  });

  it('takes an issuer only together with a principal', () => {
    expect(problem(() => parseInput(SessionsQuerySchema, { issuer: 'https://idp' }))).toMatch(/^issuer: /);
  });

  it('refuses a connection name that cannot exist', () => {
    expect(problem(() => parseInput(SessionsQuerySchema, { connection: 'Not A Name' }))).toMatch(/^connection: /);
  });

  it('takes a session id in either case and gives it in lower case', () => {
    const id = '019ABCDE-0000-7000-8000-00000000000A';
    expect(parseInput(SessionIdSchema, id, 'sessionId')).toBe(id.toLowerCase());
    expect(problem(() => parseInput(SessionIdSchema, 'not-a-uuid', 'sessionId'))).toBe('sessionId: expected a UUID');
  });
});
