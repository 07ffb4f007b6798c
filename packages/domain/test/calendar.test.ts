import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonthsClamped,
  compareDates,
  createRng,
  fromEpochDay,
  isIsoDate,
  todayUtc,
  toEpochDay,
} from '../src/index.ts';

describe('addMonthsClamped', () => {
  it.each([
    ['2028-01-31', 1, '2028-02-29'], // leap year: clamps to the 29th
    ['2027-01-31', 1, '2027-02-28'],
    ['2026-08-31', 6, '2027-02-28'],
    ['2027-08-31', 6, '2028-02-29'],
    ['2028-02-29', 12, '2029-02-28'],
    ['2028-02-29', 48, '2032-02-29'],
    ['2026-03-31', 1, '2026-04-30'],
    ['2026-01-15', 1, '2026-02-15'],
    ['2026-12-31', 2, '2027-02-28'],
    ['2026-11-30', 3, '2027-02-28'],
    ['2026-01-31', 0, '2026-01-31'],
    ['2026-03-31', -1, '2026-02-28'],
    ['2026-01-31', -13, '2024-12-31'],
    ['2099-12-31', 2, '2100-02-28'], // 2100 is not a leap year
    ['1999-12-31', 2, '2000-02-29'], // 2000 is
  ])('%s + %i months = %s', (date, months, expected) => {
    expect(addMonthsClamped(date, months)).toBe(expected);
  });

  it('clamps once, on the result, so months added in steps can differ from one addition', () => {
    expect(addMonthsClamped(addMonthsClamped('2026-01-31', 1), 1)).toBe('2026-03-28');
    expect(addMonthsClamped('2026-01-31', 2)).toBe('2026-03-31');
  });

  it('refuses fractional months and malformed dates', () => {
    expect(() => addMonthsClamped('2026-01-31', 1.5)).toThrow(RangeError);
    expect(() => addMonthsClamped('2026-02-30', 1)).toThrow(RangeError);
  });
});

describe('addDays', () => {
  it.each([
    ['2028-02-28', 1, '2028-02-29'],
    ['2028-02-29', 1, '2028-03-01'],
    ['2027-02-28', 1, '2027-03-01'],
    ['2026-12-31', 1, '2027-01-01'],
    ['2026-01-01', -1, '2025-12-31'],
    ['2026-01-31', -60, '2025-12-02'],
    ['2026-01-31', 30, '2026-03-02'],
    ['2025-06-01', 90, '2025-08-30'],
    ['2026-05-17', 0, '2026-05-17'],
  ])('%s + %i days = %s', (date, days, expected) => {
    expect(addDays(date, days)).toBe(expected);
  });
});

describe('epoch days', () => {
  it('counts from 1970-01-01', () => {
    expect(toEpochDay('1970-01-01')).toBe(0);
    expect(toEpochDay('1969-12-31')).toBe(-1);
    expect(toEpochDay('2026-01-01')).toBe(20_454);
    expect(fromEpochDay(20_454)).toBe('2026-01-01');
  });

  it('round-trips every day of four centuries, and early years are not read as 19xx', () => {
    const mismatches: number[] = [];
    for (let day = toEpochDay('1900-01-01'); day <= toEpochDay('2300-12-31'); day++) {
      if (toEpochDay(fromEpochDay(day)) !== day || addDays(fromEpochDay(day), 1) !== fromEpochDay(day + 1)) {
        mismatches.push(day);
      }
    }
    expect(mismatches).toEqual([]);
    expect(fromEpochDay(toEpochDay('0050-03-01'))).toBe('0050-03-01');
    expect(toEpochDay('0050-03-01')).toBeLessThan(toEpochDay('1950-03-01'));
  });
});

describe('compareDates', () => {
  it('orders calendar dates', () => {
    expect(compareDates('2026-01-01', '2026-01-02')).toBe(-1);
    expect(compareDates('2026-01-02', '2026-01-02')).toBe(0);
    expect(compareDates('2027-01-01', '2026-12-31')).toBe(1);
    expect(['2026-03-01', '2025-12-31', '2026-02-28'].sort(compareDates)).toEqual([
      '2025-12-31',
      '2026-02-28',
      '2026-03-01',
    ]);
  });

  it('agrees with the order of epoch days on random pairs', () => {
    const rng = createRng(7);
    for (let i = 0; i < 2000; i++) {
      const a = rng.int(-20_000, 40_000);
      const b = rng.int(-20_000, 40_000);
      expect(compareDates(fromEpochDay(a), fromEpochDay(b))).toBe(Math.sign(a - b) || 0);
    }
  });

  it('refuses malformed dates instead of comparing text', () => {
    expect(() => compareDates('2026-1-5', '2026-01-05')).toThrow(RangeError);
  });
});

describe('isIsoDate', () => {
  it.each([
    ['2026-01-31', true],
    ['2028-02-29', true],
    ['2027-02-29', false],
    ['2026-04-31', false],
    ['2026-13-01', false],
    ['2026-00-10', false],
    ['2026-01-00', false],
    ['2026-1-01', false],
    ['2026-01-01T00:00:00Z', false],
    [' 2026-01-01', false],
    [20260101, false],
    [null, false],
  ])('%j → %s', (value, expected) => {
    expect(isIsoDate(value)).toBe(expected);
  });
});

describe('todayUtc', () => {
  it('is the UTC calendar date, not the local one', () => {
    expect(todayUtc(new Date('2026-03-01T23:30:00-05:00'))).toBe('2026-03-02');
    expect(todayUtc(new Date('2026-03-02T00:30:00+02:00'))).toBe('2026-03-01');
    expect(isIsoDate(todayUtc())).toBe(true);
  });
});
