import { InvalidInputError } from '../errors';
import { resolveRange } from './time-range';

const now = Date.parse('2026-11-25T12:00:00.000Z');

describe('time ranges', () => {
  it('defaults to the day before now', () => {
    expect(resolveRange({}, now, 31)).toEqual({ from: '2026-11-24T12:00:00.000Z', to: '2026-11-25T12:00:00.000Z' });
  });

  it('defaults from to a day before a given to, and to to now', () => {
    expect(resolveRange({ to: '2026-11-01T00:00:00+02:00' }, now, 31)).toEqual({
      from: '2026-10-30T22:00:00.000Z',
      to: '2026-10-31T22:00:00.000Z',
    });
    expect(resolveRange({ from: '2026-11-20T00:00:00Z' }, now, 31)).toEqual({
      from: '2026-11-20T00:00:00.000Z',
      to: '2026-11-25T12:00:00.000Z',
    });
  });

  it('takes an empty range and one of exactly the longest span', () => {
    expect(resolveRange({ from: '2026-11-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }, now, 31).from).toBe(
      '2026-11-01T00:00:00.000Z',
    );
    expect(resolveRange({ from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }, now, 31).to).toBe(
      '2026-11-01T00:00:00.000Z',
    );
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => resolveRange({ from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, now, 31)).toThrow(
      new InvalidInputError('from: must not be after to'),
    );
  });

  it('refuses a range longer than the limit, also when from alone reaches too far back', () => {
    expect(() => resolveRange({ from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00.001Z' }, now, 31)).toThrow(
      /at most 31 days/,
    );
    expect(() => resolveRange({ from: '2026-01-01T00:00:00Z' }, now, 31)).toThrow(InvalidInputError);
  });
});
