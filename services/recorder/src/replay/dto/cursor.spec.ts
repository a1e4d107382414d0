import { InvalidInputError } from '../../errors';
import { EventCursorSchema, SessionCursorSchema, decodeCursor, encodeCursor } from './cursor';

const session = {
  from: '2026-11-24T10:00:00.000Z',
  to: '2026-11-25T10:00:00.000Z',
  startedAt: '2026-11-25T09:59:58.123456Z',
  sessionId: '019abcde-0000-7000-8000-00000000000a',
};

describe('cursors', () => {
  it('round-trips the sort key of a page, as URL-safe text', () => {
    const raw = encodeCursor(SessionCursorSchema, session);
    expect(raw).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(SessionCursorSchema, raw)).toEqual(session);
    const event = { seq: 9_007_199_254_740_991, chain: 11 };
    expect(decodeCursor(EventCursorSchema, encodeCursor(EventCursorSchema, event))).toEqual(event);
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{seq:1').toString('base64url')],
    ['another shape', Buffer.from(JSON.stringify({ seq: -1, chain: 0 })).toString('base64url')],
    ['extra fields', Buffer.from(JSON.stringify({ seq: 1, chain: 0, sql: 'x' })).toString('base64url')],
    ['a cursor of another listing', encodeCursor(SessionCursorSchema, session)],
  ])('refuses %s with a 400', (_what, raw) => {
    expect(() => decodeCursor(EventCursorSchema, raw)).toThrow(InvalidInputError);
  });

  it('never hands out a cursor it would refuse', () => {
    expect(() => encodeCursor(EventCursorSchema, { seq: 1.5, chain: 0 })).toThrow();
  });
});
