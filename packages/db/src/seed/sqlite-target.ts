// Seeding SQLite: prepared multi-row INSERTs on the process's one better-sqlite3 connection,
// in one transaction. better-sqlite3 is synchronous and binds without copying, so the cost is
// SQLite's own B-tree work, which target.ts's plan keeps to one tree per table while loading.
//
// Foreign keys cannot be dropped from a SQLite table, but their enforcement can be switched
// off for the connection (outside a transaction only, hence in begin and after commit) and
// the loaded rows verified at the end with PRAGMA foreign_key_check. Indexes are dropped and
// recreated from the SQL sqlite_master keeps for them.

import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from '../knex.ts';
import type { Value } from './tables.ts';
import type { SeedTarget } from './target.ts';
import { sqliteParams } from './values.ts';

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

// Rows go in multi-row INSERTs of about this many values: per-statement overhead dominates
// single-row inserts, and SQLite allows 32,766 parameters.
const BIND_PARAMETERS_PER_INSERT = 500;

// A page cache large enough to hold the tables' growing right edges and the index builds'
// sorts; restored when the seed ends.
const SEED_CACHE_KIB = 256 * 1024;

interface KnexClient {
  acquireConnection(): Promise<BetterSqlite3.Database>;
  releaseConnection(connection: BetterSqlite3.Database): Promise<void>;
}

export async function sqliteTarget(db: Db): Promise<SeedTarget> {
  const client = db.knex.client as KnexClient;
  const conn = await client.acquireConnection();
  const cacheSize = conn.pragma('cache_size', { simple: true }) as number;
  const foreignKeys = conn.pragma('foreign_keys', { simple: true }) as number;
  let suspended: Array<{ name: string; sql: string }> = [];
  let checkKeysOf: readonly string[] = [];

  const restoreSettings = () => {
    conn.pragma(`cache_size = ${cacheSize}`);
    conn.pragma(`foreign_keys = ${foreignKeys}`);
  };

  return {
    async begin() {
      conn.pragma(`cache_size = -${SEED_CACHE_KIB}`);
      conn.pragma('foreign_keys = OFF');
      conn.exec('BEGIN IMMEDIATE');
    },
    async nonEmpty(tables) {
      return tables.filter((table) => {
        const row = conn.prepare(`SELECT EXISTS (SELECT 1 FROM ${quoteIdent(table)}) AS found`).get();
        return (row as { found: number }).found === 1;
      });
    },
    async suspendIndexes(tables) {
      checkKeysOf = tables;
      // Indexes SQLite made itself (sql IS NULL) back inline constraints and cannot be dropped.
      const placeholders = tables.map(() => '?').join(', ');
      suspended = conn
        .prepare(
          `SELECT name, sql FROM sqlite_master
            WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${placeholders}) ORDER BY name`,
        )
        .all(...tables) as Array<{ name: string; sql: string }>;
      for (const index of suspended) conn.exec(`DROP INDEX ${quoteIdent(index.name)}`);
    },
    async reset(tables) {
      const existing = new Set(
        (
          conn.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>
        ).map((r) => r.name),
      );
      const present = tables.filter((t) => existing.has(t));
      // With foreign keys off, an unqualified DELETE truncates instead of visiting each row.
      for (const table of present) conn.exec(`DELETE FROM ${quoteIdent(table)}`);
      if (existing.has('sqlite_sequence')) {
        const forget = conn.prepare('DELETE FROM sqlite_sequence WHERE name = ?');
        for (const table of present) forget.run(table);
      }
    },
    async load(table, plan) {
      const columns = table.columns.map(([name]) => quoteIdent(name));
      const rowsPerInsert = Math.max(1, Math.floor(BIND_PARAMETERS_PER_INSERT / columns.length));
      const insertOf = (rows: number) =>
        conn.prepare(
          `INSERT INTO ${quoteIdent(table.name)} (${columns.join(', ')}) VALUES ${Array(rows)
            .fill(`(${columns.map(() => '?').join(', ')})`)
            .join(', ')}`,
        );
      const insertMany = insertOf(rowsPerInsert);
      const params = sqliteParams(table);
      const batch: Value[] = [];
      let count = 0;
      for (const row of table.rows(plan)) {
        for (const value of params(row)) batch.push(value);
        if (++count % rowsPerInsert === 0) {
          insertMany.run(batch);
          batch.length = 0;
        }
      }
      if (batch.length > 0) insertOf(batch.length / columns.length).run(batch);
      return count;
    },
    async rebuildIndexes() {
      for (const index of suspended) conn.exec(index.sql);
      suspended = [];
      const check = conn.prepare('SELECT * FROM pragma_foreign_key_check(?) LIMIT 1');
      for (const table of checkKeysOf) {
        const violation = check.get(table) as { table: string; rowid: number; parent: string } | undefined;
        if (violation !== undefined) {
          throw new Error(
            `seeded row ${violation.rowid} of ${violation.table} references a missing row of ${violation.parent}`,
          );
        }
      }
      // AUTOINCREMENT keys record the highest id written in sqlite_sequence by themselves.
    },
    async commit() {
      conn.exec('COMMIT');
      restoreSettings();
      // The load went through the WAL; fold it into the database file now rather than leave a
      // WAL as large as the data for the next process to checkpoint.
      conn.pragma('wal_checkpoint(TRUNCATE)');
    },
    async rollback() {
      if (conn.inTransaction) conn.exec('ROLLBACK');
      restoreSettings();
    },
    async analyze(tables) {
      for (const table of tables) conn.exec(`ANALYZE ${quoteIdent(table)}`);
    },
    async release() {
      await client.releaseConnection(conn);
    },
  };
}
