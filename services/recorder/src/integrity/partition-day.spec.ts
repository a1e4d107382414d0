import fc from 'fast-check';
import { uuidv7At } from '@airlock/testing';
import { partitionDayOf, uuidV7Millis } from './partition-day';

describe('partition day of an event id', () => {
  it('reads the Unix milliseconds from the first 48 bits of a UUIDv7', () => {
    // 0x019b76daa800 = 1767225600000 = 2026-01-01T00:00:00.000Z
    expect(uuidV7Millis('019b76da-a800-7abc-8def-0123456789ab')).toBe(1767225600000);
    expect(uuidV7Millis('019b76da-a7ff-7fff-bfff-ffffffffffff')).toBe(1767225599999);
    expect(uuidV7Millis('00000000-0000-7000-8000-000000000000')).toBe(0);
  });

  it('reads back any 48-bit time an id was made with', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
        const id = uuidv7At(ms);
        expect(uuidV7Millis(id)).toBe(ms);
        expect(uuidV7Millis(id.toUpperCase())).toBe(ms);
      }),
    );
  });

  it('reads upper-case digits too, and nothing from an id whose time digits are not hex', () => {
    expect(uuidV7Millis('019B76DA-A800-7ABC-8DEF-0123456789AB')).toBe(1767225600000);
    expect(uuidV7Millis('019b76dg-a800-7abc-8def-0123456789ab')).toBeNaN();
    expect(uuidV7Millis('019b76da-a8')).toBeNaN();
    expect(uuidV7Millis('019b76d\u0010-a800-7abc-8def-0123456789ab')).toBeNaN();
  });

  it('puts the last millisecond of a UTC day and the first of the next in different days', () => {
    expect(partitionDayOf('019b76da-a7ff-7fff-bfff-ffffffffffff')).toBe('2025-12-31');
    expect(partitionDayOf('019b76da-a800-7000-8000-000000000000')).toBe('2026-01-01');
  });

  it.each([
    ['2026-03-01T00:00:00.000Z', '2026-03-01'],
    ['2026-02-28T23:59:59.999Z', '2026-02-28'],
    ['2028-02-29T23:59:59.999Z', '2028-02-29'],
    ['2028-03-01T00:00:00.000Z', '2028-03-01'],
    ['2026-06-15T12:34:56.789Z', '2026-06-15'],
  ])('places an id made at %s in the partition of %s', (iso, day) => {
    const ms = Date.parse(iso);
    const id = uuidv7At(ms);
    expect(uuidV7Millis(id)).toBe(ms);
    expect(partitionDayOf(id)).toBe(day);
  });

  it('reads only the time, whatever the random bits after it', () => {
    const ms = Date.parse('2026-07-04T23:59:59.999Z');
    const ids = [uuidv7At(ms), uuidv7At(ms), uuidv7At(ms)];
    expect(new Set(ids).size).toBe(3);
    expect(ids.map(partitionDayOf)).toEqual(['2026-07-04', '2026-07-04', '2026-07-04']);
  });
});
