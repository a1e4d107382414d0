import { dayRuns } from './retention.runner';
import {
  dayOfPartition,
  droppedThrough,
  isExpired,
  partitionName,
  planDrop,
  type DayPartition,
} from './retention-plan';

const at = (iso: string) => new Date(iso);

/** A day partition holding, per chain, the sequence numbers from `min` to `max` (`events` of them). */
function partition(day: string, ...spans: [chain: number, min: number, max: number, events?: number][]): DayPartition {
  return {
    name: partitionName(day),
    day,
    spans: spans.map(([chain, min, max, events]) => ({
      chain,
      minSeq: BigInt(min),
      maxSeq: BigInt(max),
      events: events ?? max - min + 1,
    })),
  };
}

const names = (ps: DayPartition[]) => ps.map((p) => p.name);

describe('retention plan', () => {
  describe('isExpired', () => {
    it('expires a day once its end lies the given number of days in the past', () => {
      // 2026-03-01 ends at 2026-03-02T00:00Z; thirty days later is 2026-04-01T00:00Z.
      expect(isExpired('2026-03-01', at('2026-03-31T23:59:59.999Z'), 30)).toBe(false);
      expect(isExpired('2026-03-01', at('2026-04-01T00:00:00.000Z'), 30)).toBe(true);
      expect(isExpired('2026-03-01', at('2026-04-01T00:00:00.001Z'), 30)).toBe(true);
    });

    it('counts whole UTC days, not the offset of the clock it is given', () => {
      expect(isExpired('2026-03-01', at('2026-03-03T00:59:59.999+01:00'), 1)).toBe(false);
      expect(isExpired('2026-03-01', at('2026-03-03T01:00:00.000+01:00'), 1)).toBe(true);
    });

    it('counts across a leap day and a year end', () => {
      // 2028-02-28 ends at 2028-02-29T00:00Z; a day later is 2028-03-01T00:00Z.
      expect(isExpired('2028-02-28', at('2028-02-29T23:59:59.999Z'), 1)).toBe(false);
      expect(isExpired('2028-02-28', at('2028-03-01T00:00:00.000Z'), 1)).toBe(true);
      expect(isExpired('2026-12-31', at('2027-01-07T23:59:59.999Z'), 7)).toBe(false);
      expect(isExpired('2026-12-31', at('2027-01-08T00:00:00.000Z'), 7)).toBe(true);
    });

    it('never expires today or a day in the future', () => {
      expect(isExpired('2026-03-10', at('2026-03-10T23:59:59.999Z'), 1)).toBe(false);
      expect(isExpired('2026-03-11', at('2026-03-10T12:00:00.000Z'), 1)).toBe(false);
    });
  });

  describe('partition names', () => {
    it('names the partition of a day and reads the day back', () => {
      expect(partitionName('2026-03-01')).toBe('audit_event_20260301');
      expect(dayOfPartition('audit_event_20260301')).toBe('2026-03-01');
      for (const day of ['1999-12-31', '2028-02-29', '2030-10-05']) {
        expect(dayOfPartition(partitionName(day))).toBe(day);
      }
    });

    it.each([
      'audit_event',
      'audit_event_default',
      'audit_event_2026031',
      'audit_event_202603011',
      'audit_event_2026-03-01',
      'audit_event_20260301_old',
      'xaudit_event_20260301',
      'AUDIT_EVENT_20260301',
      'audit_checkpoint',
      '',
    ])('reads no day from %p', (name) => {
      expect(dayOfPartition(name)).toBeUndefined();
    });
  });

  describe('planDrop', () => {
    it('drops every expired partition when each chain continues in order after them', () => {
      const d1 = partition('2026-01-01', [0, 1, 10], [1, 1, 4]);
      const d2 = partition('2026-01-02', [0, 11, 20], [1, 5, 9]);
      const rest = new Map([
        [0, 21n],
        [1, 10n],
      ]);
      expect(names(planDrop([d2, d1], rest))).toEqual(['audit_event_20260101', 'audit_event_20260102']);
    });

    it('drops nothing when nothing expired', () => {
      expect(planDrop([], new Map([[0, 1n]]))).toEqual([]);
    });

    it('holds a partition whose late event comes after links kept in a newer partition', () => {
      // 2026-01-02 received an event late (seq 12) after 2026-01-03 had links 8 to 11.
      const d1 = partition('2026-01-01', [0, 1, 4]);
      const d2 = partition('2026-01-02', [0, 5, 12, 4]);
      const d3 = partition('2026-01-03', [0, 8, 11]);
      // Only the first two are expired; the third stays with what is newer.
      const plan = planDrop([d2, d1], new Map([[0, 8n]]));
      expect(names(plan)).toEqual(['audit_event_20260101']);

      // Once the third expires too, the held partition goes with it.
      const later = planDrop([d3, d2], new Map([[0, 13n]]));
      expect(names(later)).toEqual(['audit_event_20260102', 'audit_event_20260103']);
    });

    it('holds an expired partition that interleaves with a newer expired one kept back', () => {
      const d1 = partition('2026-01-01', [0, 1, 3]);
      const d2 = partition('2026-01-02', [0, 4, 20, 5]);
      const d3 = partition('2026-01-03', [0, 8, 15]);
      // d2 cannot go while links 16.. stay; d3 cannot go without d2 before it.
      expect(names(planDrop([d1, d2, d3], new Map([[0, 16n]])))).toEqual(['audit_event_20260101']);
    });

    it('drops nothing when the oldest partition holds a link after one that stays', () => {
      const d1 = partition('2026-01-01', [0, 1, 30, 6]);
      const d2 = partition('2026-01-02', [0, 6, 9]);
      expect(planDrop([d1, d2], new Map([[0, 10n]]))).toEqual([]);
    });

    it('holds a partition for the one chain that interleaves, though its other chains would allow it', () => {
      const d1 = partition('2026-01-01', [0, 1, 5], [1, 1, 9, 3]);
      const rest = new Map([
        [0, 6n],
        [1, 4n],
      ]);
      expect(planDrop([d1], rest)).toEqual([]);
    });

    it('drops the links of a chain that has none in the partitions that stay', () => {
      const d1 = partition('2026-01-01', [0, 1, 5], [7, 1, 100]);
      const d2 = partition('2026-01-02', [7, 101, 140]);
      expect(names(planDrop([d1, d2], new Map([[0, 6n]])))).toEqual(['audit_event_20260101', 'audit_event_20260102']);
      expect(names(planDrop([d1], new Map()))).toEqual(['audit_event_20260101']);
    });

    it('changes neither its input list nor the map it is given', () => {
      const d1 = partition('2026-01-01', [0, 1, 3]);
      const d2 = partition('2026-01-02', [0, 4, 6]);
      const expired = [d2, d1];
      const rest = new Map([[0, 5n]]);
      planDrop(expired, rest);
      expect(expired).toEqual([d2, d1]);
      expect([...rest]).toEqual([[0, 5n]]);
    });
  });

  describe('droppedThrough', () => {
    it('gives, per chain, the range and number of events dropped', () => {
      const through = droppedThrough([
        partition('2026-01-02', [0, 11, 25, 14], [3, 2, 2]),
        partition('2026-01-01', [0, 1, 10], [1, 1, 4]),
      ]);
      expect(through).toEqual(
        new Map([
          [0, { minSeq: 1n, maxSeq: 25n, events: 24 }],
          [3, { minSeq: 2n, maxSeq: 2n, events: 1 }],
          [1, { minSeq: 1n, maxSeq: 4n, events: 4 }],
        ]),
      );
    });

    it('takes the extremes whichever partition holds them', () => {
      const through = droppedThrough([partition('2026-01-01', [0, 1, 40, 5]), partition('2026-01-02', [0, 6, 12])]);
      expect(through.get(0)).toEqual({ minSeq: 1n, maxSeq: 40n, events: 12 });
    });

    it('gives nothing for nothing dropped', () => {
      expect(droppedThrough([]).size).toBe(0);
    });
  });
});

describe('runs of dropped days', () => {
  it('groups consecutive days, whatever their order', () => {
    expect(dayRuns(['2026-12-03', '2026-12-01', '2026-12-02', '2026-12-05', '2026-12-31', '2027-01-01'])).toEqual([
      ['2026-12-01', '2026-12-03'],
      ['2026-12-05', '2026-12-05'],
      ['2026-12-31', '2027-01-01'],
    ]);
    expect(dayRuns([])).toEqual([]);
  });
});
