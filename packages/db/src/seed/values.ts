// The neutral row values of tables.ts, written as each database stores them (see Db in
// ../knex.ts): calendar dates as 'YYYY-MM-DD', instants as ISO-8601 UTC with milliseconds.

import { DAY_MS } from './inventory.ts';
import type { ColumnType, SeedTable, Value } from './tables.ts';

// A seeded inventory spans a few thousand distinct days but writes millions of dates.
const dateTexts = new Map<number, string>();

export function dateText(epochDay: number): string {
  let text = dateTexts.get(epochDay);
  if (text === undefined) {
    text = new Date(epochDay * DAY_MS).toISOString().slice(0, 10);
    dateTexts.set(epochDay, text);
  }
  return text;
}

const pad = (width: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => String(i).padStart(width, '0'));
const TWO_DIGITS = pad(2, 60);
const THREE_DIGITS = pad(3, 1000);

/** Same text as Date#toISOString (years 1970-9999), without its cost: seeds write millions. */
export function instantText(epochMs: number): string {
  const day = Math.floor(epochMs / DAY_MS);
  let rest = epochMs - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${dateText(day)}T${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[rest - seconds * 1000]}Z`;
}

// PostgreSQL's COPY text format: tab-separated, \N for null, backslash escapes.
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

function copyField(type: ColumnType, value: Value): string {
  if (value === null) return '\\N';
  switch (type) {
    case 'date':
      return dateText(value as number);
    case 'instant':
      return instantText(value as number);
    case 'bool':
      return value ? 't' : 'f';
    case 'text':
      return copyText(value as string);
    default:
      return String(value);
  }
}

/** A function writing one row of `table` as a line of COPY text format. */
export function copyLineWriter(table: SeedTable): (row: Value[]) => string {
  const types = table.columns.map(([, type]) => type);
  return (row) => {
    let line = copyField(types[0]!, row[0]!);
    for (let i = 1; i < types.length; i++) line += `\t${copyField(types[i]!, row[i]!)}`;
    return `${line}\n`;
  };
}

function sqliteField(type: ColumnType, value: Value): string | number | null {
  if (value === null) return null;
  switch (type) {
    case 'date':
      return dateText(value as number);
    case 'instant':
      return instantText(value as number);
    case 'bool':
      return value ? 1 : 0;
    default:
      return value as string | number;
  }
}

/** A function turning one row of `table` into SQLite bind parameters, in place. */
export function sqliteParams(table: SeedTable): (row: Value[]) => Value[] {
  const types = table.columns.map(([, type]) => type);
  return (row) => {
    for (let i = 0; i < types.length; i++) row[i] = sqliteField(types[i]!, row[i]!);
    return row;
  };
}
