// Calendar dates as 'YYYY-MM-DD' strings, always read in UTC.
//
// The inventory's rules are about calendar days, not instants: a validation approved "on
// 2026-01-31" must mean the same day on every machine and in both databases, whatever the
// process's time zone. So dates stay strings at every boundary and arithmetic goes through
// day numbers counted from 1970-01-01 (epoch days), which never meet a time zone.
//
// Zero-padded ISO dates of four-digit years sort lexically in calendar order, which is why
// compareDates can be a string comparison and why SQL can compare the same text in SQLite.

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date, 'YYYY-MM-DD' (years 0000-9999). */
export type IsoDate = string;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function parts(date: IsoDate): [year: number, month: number, day: number] {
  const match = ISO_DATE.exec(date);
  if (match) {
    const year = Number(match[1]);
    const month = Number(match[2]);
    const day = Number(match[3]);
    if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) return [year, month, day];
  }
  throw new RangeError(`not a calendar date (YYYY-MM-DD): ${JSON.stringify(date)}`);
}

function format(year: number, month: number, day: number): IsoDate {
  if (year < 0 || year > 9999) throw new RangeError(`year out of range 0000-9999: ${year}`);
  return `${String(year).padStart(4, '0')}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

/** True when `value` is a real calendar date in 'YYYY-MM-DD' form ('2026-02-30' is not). */
export function isIsoDate(value: unknown): value is IsoDate {
  if (typeof value !== 'string') return false;
  try {
    parts(value);
    return true;
  } catch {
    return false;
  }
}

/** Days since 1970-01-01 (negative before it). Throws RangeError on a malformed date. */
export function toEpochDay(date: IsoDate): number {
  const [year, month, day] = parts(date);
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const instant = new Date(Date.UTC(2000, month - 1, day));
  instant.setUTCFullYear(year);
  return Math.round(instant.getTime() / DAY_MS);
}

/** The calendar date `epochDay` days after 1970-01-01. */
export function fromEpochDay(epochDay: number): IsoDate {
  if (!Number.isInteger(epochDay)) throw new RangeError(`not a whole number of days: ${epochDay}`);
  const instant = new Date(epochDay * DAY_MS);
  return format(instant.getUTCFullYear(), instant.getUTCMonth() + 1, instant.getUTCDate());
}

/** `date` moved by `days` calendar days (negative moves back). */
export function addDays(date: IsoDate, days: number): IsoDate {
  return fromEpochDay(toEpochDay(date) + days);
}

/**
 * `date` moved by `months` calendar months, keeping the day of the month unless the target
 * month is shorter, in which case it lands on that month's last day: 2028-01-31 + 1 month is
 * 2028-02-29 and 2027-01-31 + 1 month is 2027-02-28. Clamping is applied once, to the result,
 * so adding 12 months to 2028-02-29 gives 2029-02-28 (not the 1st of March).
 */
export function addMonthsClamped(date: IsoDate, months: number): IsoDate {
  if (!Number.isInteger(months)) throw new RangeError(`not a whole number of months: ${months}`);
  const [year, month, day] = parts(date);
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = index - targetYear * 12 + 1;
  return format(targetYear, targetMonth, Math.min(day, daysInMonth(targetYear, targetMonth)));
}

/** Negative, zero or positive as `a` is before, on or after `b`; usable with Array#sort. */
export function compareDates(a: IsoDate, b: IsoDate): -1 | 0 | 1 {
  parts(a);
  parts(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Today's calendar date in UTC (not the process's local zone). */
export function todayUtc(now: Date = new Date()): IsoDate {
  return now.toISOString().slice(0, 10);
}
