import fc from 'fast-check';
import { TimestampRefused, parse, timestamptz } from './pg-timestamp';

const PG_EPOCH_MS = Date.parse('2000-01-01T00:00:00Z');
const micros = (text: string): bigint => BigInt(timestamptz(text));

describe('timestamptz in binary form', () => {
  it.each([
    ['2000-01-01T00:00:00Z', 0n],
    ['2000-01-01T00:00:00.000001Z', 1n],
    ['1999-12-31T23:59:59.999999Z', -1n],
    ['2026-01-01T00:00Z', 820_540_800_000_000n],
    ['2026-01-01T05:30:00+05:30', 820_540_800_000_000n],
    ['2025-12-31T20:00:00-04:00', 820_540_800_000_000n],
    ['2028-02-29T12:00:00.5Z', 888_753_600_500_000n],
    // Past six digits PostgreSQL rounds the fraction to the nearest microsecond, ties to even.
    ['2000-01-01T00:00:00.0000005Z', 0n],
    ['2000-01-01T00:00:00.0000015Z', 2n],
    ['2000-01-01T00:00:00.00000050000001Z', 1n],
    ['1999-12-31T23:59:59.9999995Z', 0n],
    ['0001-01-01T00:00:00Z', -63_082_281_600_000_000n],
    ['9999-12-31T23:59:59.999999Z', 252_455_615_999_999_999n],
  ])('%s is %s µs after 2000-01-01', (text, expected) => {
    expect(micros(text)).toBe(expected);
  });

  it('gives the microseconds Date gives for any instant written as toISOString writes it', () => {
    const instant = fc.integer({
      min: Date.parse('0001-01-01T00:00:00Z'),
      max: Date.parse('9999-12-31T23:59:59.999Z'),
    });
    fc.assert(
      fc.property(instant, (ms) => {
        expect(micros(new Date(ms).toISOString())).toBe(BigInt(ms - PG_EPOCH_MS) * 1000n);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['0000-01-01T00:00:00Z', '22008'],
    ['2026-01-01T00:00:00+16:00', '22009'],
    ['2026-02-29T00:00:00Z', '22008'],
    ['2026-13-01T00:00:00Z', '22008'],
    ['2026-01-01T24:00:00Z', '22008'],
    ['2026-01-01T00:00:00', '22007'],
    ['2026-01-01T00:00:00.Z', '22007'],
    ['2026-01-01 00:00:00Z', '22007'],
    ['2026-01-01T00:00:00+0100', '22007'],
    ['2026-0a-01T00:00:00Z', '22007'],
    ['', '22007'],
  ])('refuses %s with SQLSTATE %s', (text, code) => {
    expect(() => parse(text)).toThrow(TimestampRefused);
    expect(() => parse(text)).toThrow(expect.objectContaining({ code }));
  });
});
