// A statement spelled once per dialect, and running it: the reports keep their SQL as
// DialectSql constants and run the spelling of the Db at hand.
import type { Knex } from 'knex';
import type { Db, Dialect } from '../knex.ts';
import { queryRows, type RawRow } from '../raw.ts';

/** One statement, spelled for each dialect. */
export type DialectSql = Readonly<Record<Dialect, string>>;

/** Runs `sql` in `db`'s dialect on `runner` (the Db's knex or a transaction); returns its rows. */
export function queryDialect(
  runner: Knex | Knex.Transaction,
  db: Db,
  sql: DialectSql,
  bindings: unknown[],
): Promise<RawRow[]> {
  return queryRows(runner, sql[db.dialect], bindings);
}
