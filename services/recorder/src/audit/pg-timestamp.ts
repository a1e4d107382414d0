/**
 * An event's `time` (RFC 3339 as the audit contract takes it: `YYYY-MM-DDTHH:MM[:SS[.fraction]]`
 * and `Z` or `±HH:MM`) as PostgreSQL's binary `timestamptz`: microseconds since 2000-01-01 00:00
 * UTC. The value is the one PostgreSQL's own input function gives for the same text (fractions
 * past the microsecond rounded half to even, as its `rint` does), and what it refuses is refused
 * here with the same SQLSTATE, so a row is stored, or refused, as it would be in text form.
 */
export class TimestampRefused extends Error {
  constructor(
    message: string,
    /** The SQLSTATE PostgreSQL gives for this input (class 22: the store refuses the row). */
    readonly code: string,
  ) {
    super(message);
    this.name = 'TimestampRefused';
  }
}

/** Days from 1970-01-01 to 2000-01-01. */
const PG_EPOCH_DAYS = 10_957;
/** PostgreSQL takes a zone displacement of at most 15 hours (and 59 minutes). */
const MAX_DISPLACEMENT_HOURS = 15;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The timestamp's value: a number while it is exact as a double, else a bigint. */
export function timestamptz(text: string): number | bigint {
  const { seconds, micros } = parse(text);
  const value = seconds * 1_000_000 + micros;
  // Beyond about ±285 years of 2000 the product leaves the doubles' exact integers.
  return Number.isSafeInteger(value) ? value : BigInt(seconds) * 1_000_000n + BigInt(micros);
}

function refuse(text: string, why: string, code = '22007'): never {
  throw new TimestampRefused(`invalid input syntax for type timestamp with time zone: "${text}" (${why})`, code);
}

/** What parse answers, one object for every call (it runs for every stored event): read it before the next. */
const parsed = { seconds: 0, micros: 0 };

/** Whole seconds since 2000-01-01 00:00 UTC, and the microseconds (0 to 1,000,000) after them. */
export function parse(text: string): { readonly seconds: number; readonly micros: number } {
  if (text.length < 17 || text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':') {
    refuse(text, 'not an RFC 3339 date and time');
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  let second = 0;
  let micros = 0;
  let at = 16;
  if (text[at] === ':') {
    second = digits(text, at + 1, 2);
    at += 3;
    if (text[at] === '.') {
      const start = at;
      at++;
      while (at < text.length && isDigit(text.charCodeAt(at))) at++;
      micros = fraction(text, start, at);
    }
  }
  let displacement = 0;
  if (text[at] === 'Z' && at + 1 === text.length) {
    at++;
  } else if ((text[at] === '+' || text[at] === '-') && at + 6 === text.length && text[at + 3] === ':') {
    const hours = digits(text, at + 1, 2);
    const minutes = digits(text, at + 4, 2);
    if (minutes > 59) refuse(text, 'zone minutes');
    if (hours > MAX_DISPLACEMENT_HOURS) refuse(text, 'time zone displacement out of range', '22009');
    displacement = (text[at] === '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
  } else {
    refuse(text, 'no zone');
  }
  if (Number.isNaN(year + month + day + hour + minute + second + micros)) refuse(text, 'not a number');
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) refuse(text, 'field out of range', '22008');
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day < 1 || day > DAYS_IN_MONTH[month - 1] + (month === 2 && leap ? 1 : 0)) refuse(text, 'no such day', '22008');
  // ISO years count from 1: year 0 is not taken.
  if (year === 0) refuse(text, 'date/time field value out of range', '22008');
  const days = daysFromCivil(year, month, day) - PG_EPOCH_DAYS;
  parsed.seconds = days * 86_400 + hour * 3600 + minute * 60 + second - displacement;
  parsed.micros = micros;
  return parsed;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The decimal number of `length` digits at `at`, NaN if any is not a digit. */
function digits(text: string, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return NaN;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/** Microseconds of the fraction `.ddd…` from `start` (the dot) to `end`, as PostgreSQL rounds them. */
function fraction(text: string, start: number, end: number): number {
  const count = end - start - 1;
  if (count === 0) return NaN;
  // Up to six digits the value is exact; more go the way PostgreSQL takes them: strtod, times a
  // million, rint (to nearest, ties to even).
  if (count <= 6) return digits(text, start + 1, count) * 10 ** (6 - count);
  return roundHalfEven(Number(text.slice(start, end)) * 1_000_000);
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Days since 1970-01-01 of a date in the proleptic Gregorian calendar. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
