import type { Knex } from 'knex';

// Column types that keep one convention on both databases (see Db in ../knex.ts). In SQLite,
// where every column is loosely typed, CHECKs hold values to the canonical text forms, so a
// stray Date bound as a number or a date written as `2026-1-5` fails at write time instead of
// sorting wrongly in a report.

export const isPostgres = (knex: Knex): boolean => knex.client.config.client === 'pg';

export interface Columns {
  /** timestamptz(3) in PostgreSQL; `YYYY-MM-DDTHH:MM:SS.sssZ` text in SQLite. */
  instant(name: string): Knex.ColumnBuilder;
  /** date in PostgreSQL; `YYYY-MM-DD` text in SQLite. */
  calendarDate(name: string): Knex.ColumnBuilder;
  /** jsonb in PostgreSQL; text holding valid JSON in SQLite. */
  json(name: string): Knex.ColumnBuilder;
  /** A text column limited to `values`, by a CHECK named `<table>_<name>_check`. */
  oneOf(name: string, values: readonly string[]): Knex.ColumnBuilder;
  /** The database clock as an instant, for column defaults only (queries pass `now` in). */
  now(): Knex.Raw;
}

export function columns(knex: Knex, table: Knex.CreateTableBuilder, tableName: string): Columns {
  const pg = isPostgres(knex);
  const formatCheck = (name: string, predicate: string) =>
    table.check(predicate, [], `${tableName}_${name}_format_check`);
  return {
    instant(name) {
      if (pg) return table.timestamp(name, { useTz: true, precision: 3 });
      formatCheck(name, `strftime('%Y-%m-%dT%H:%M:%fZ', "${name}") IS "${name}"`);
      return table.text(name);
    },
    calendarDate(name) {
      if (pg) return table.date(name);
      formatCheck(name, `date("${name}") IS "${name}"`);
      return table.text(name);
    },
    json(name) {
      if (pg) return table.jsonb(name);
      formatCheck(name, `json_valid("${name}")`);
      return table.text(name);
    },
    oneOf(name, values) {
      return table.text(name).checkIn([...values], `${tableName}_${name}_check`);
    },
    now() {
      return pg ? knex.raw('CURRENT_TIMESTAMP') : knex.raw(`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`);
    },
  };
}
