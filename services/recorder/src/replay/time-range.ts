import { InvalidInputError } from '../errors';

/** Epoch milliseconds. Injected wherever time decides something, so tests can fix it. */
export type Clock = () => number;
export const REPLAY_CLOCK = Symbol('REPLAY_CLOCK');

const DAY_MS = 86_400_000;

/** A half-open range [from, to), as RFC 3339 UTC times to the millisecond. */
export interface TimeRange {
  from: string;
  to: string;
}

/**
 * The range a query asks for: `to` defaults to now and `from` to a day before `to`. A range
 * that ends before it starts, or spans more than `maxDays`, is refused.
 */
export function resolveRange(query: { from?: string; to?: string }, now: number, maxDays: number): TimeRange {
  const to = query.to === undefined ? now : Date.parse(query.to);
  const from = query.from === undefined ? to - DAY_MS : Date.parse(query.from);
  if (from > to) throw new InvalidInputError('from: must not be after to');
  if (to - from > maxDays * DAY_MS) {
    throw new InvalidInputError(`from, to: a range spans at most ${maxDays} days`);
  }
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}
