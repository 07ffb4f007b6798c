// Rows of hand-written SQL run through `knex.raw`, the same on both databases: pg wraps them in
// `{ rows }`, better-sqlite3 returns the array itself (or a run summary, without rows, for a
// statement that returns none).
import type { Knex } from 'knex';

export type RawRow = Record<string, unknown>;

/** The rows of a `knex.raw` result from either database. */
export function rawRows<T = RawRow>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown } | null | undefined)?.rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}

/** Runs `sql` (knex's `?` placeholders) on a Db's knex or inside a transaction; returns its rows. */
export async function queryRows<T = RawRow>(
  runner: Knex | Knex.Transaction,
  sql: string,
  bindings: readonly unknown[] = [],
): Promise<T[]> {
  return rawRows<T>(await runner.raw(sql, bindings as Knex.RawBinding[]));
}
