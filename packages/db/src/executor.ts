import type { Knex } from 'knex';
import type { Dialect } from './knex.ts';

/**
 * Runs hand-written SQL on a Db or inside a caller's transaction, for code that must not see
 * knex (the queue adapters insert a job in the caller's transaction through this). SQL uses
 * the dialect's own placeholders: `$1…$n` on PostgreSQL, `?` on SQLite. Values come back by the
 * Db's conventions (instants as ISO text, JSON as text, bigints as numbers).
 */
export interface SqlExecutor {
  dialect: Dialect;
  query(sql: string, params: readonly unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export function sqlExecutor(runner: Knex | Knex.Transaction, dialect: Dialect): SqlExecutor {
  return {
    dialect,
    async query(sql, params) {
      if (dialect === 'postgres') {
        const { text, bindings } = numberedToKnex(sql, params);
        const result = await runner.raw(text, bindings as Knex.RawBinding[]);
        return { rows: (result as { rows: Array<Record<string, unknown>> }).rows };
      }
      const result = await runner.raw(sql, params as Knex.RawBinding[]);
      // better-sqlite3 answers a statement without RETURNING with a run summary, not rows.
      return { rows: Array.isArray(result) ? result : [] };
    },
  };
}

/**
 * knex binds `?` positionally; `$2 … $1 … $2` becomes `? … ? … ?` with the values repeated in
 * order. A literal `?` (jsonb's key-exists operator) is escaped so knex leaves it alone.
 */
function numberedToKnex(sql: string, params: readonly unknown[]): { text: string; bindings: unknown[] } {
  const bindings: unknown[] = [];
  const text = sql.replace(/\?/g, '\\?').replace(/\$(\d+)/g, (_match, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= params.length) throw new RangeError(`no value for placeholder $${n}`);
    bindings.push(params[index]);
    return '?';
  });
  return { text, bindings };
}
