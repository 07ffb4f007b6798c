// A SQLite file as either end of a copy, through its own better-sqlite3 connection (not the
// process's knex pool: the source must be opened read-only, and the target's load wants foreign
// keys off). The reader holds one read transaction for the whole copy, so every table is read
// from the same snapshot while other processes keep the file in WAL mode.
import Database from 'better-sqlite3';
import {
  type Column,
  type ForeignKeyViolation,
  hasNumericId,
  NOT_COPIED,
  parentsFirst,
  quoteIdent,
  type Readable,
  type Row,
  type TableInfo,
  type Writable,
  type WriteTransaction,
} from './side.ts';
import type { ColumnKind } from './values.ts';
import { sqliteBinding } from './values.ts';

// Rows go in multi-row INSERTs of about this many values: SQLite allows 32,766 parameters, and
// per-statement overhead dominates single-row inserts.
const BIND_PARAMETERS_PER_INSERT = 500;

export function openSqliteReader(path: string): Readable {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.exec('BEGIN');
  return sqliteReadable(db, () => {
    if (db.inTransaction) db.exec('COMMIT');
    db.close();
  });
}

export function openSqliteWriter(path: string): Writable {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  // Checked at the end by the verification (PRAGMA foreign_key_check) rather than row by row.
  db.pragma('foreign_keys = OFF');
  const inserts = new Map<string, Database.Statement>();
  const statements = new Map<string, Database.Statement>();
  const insertOf = (table: TableInfo, rows: number) => {
    const key = `${table.name}:${rows}`;
    let statement = inserts.get(key);
    if (statement === undefined) {
      const row = `(${table.columns.map(() => '?').join(', ')})`;
      statement = db.prepare(
        `INSERT INTO ${quoteIdent(table.name)} (${table.columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES ${Array(rows).fill(row).join(', ')}`,
      );
      inserts.set(key, statement);
    }
    return statement;
  };
  const tx: WriteTransaction = {
    async load(table, source, onRows) {
      const perInsert = Math.max(1, Math.floor(BIND_PARAMETERS_PER_INSERT / table.columns.length));
      const values: unknown[] = [];
      let total = 0;
      for await (const rows of source) {
        let pending = 0;
        for (const row of rows) {
          for (const column of table.columns) values.push(sqliteBinding(column.kind, row[column.name]));
          if (++pending === perInsert) {
            insertOf(table, pending).run(values);
            values.length = 0;
            pending = 0;
          }
        }
        if (pending > 0) insertOf(table, pending).run(values);
        values.length = 0;
        total += rows.length;
        onRows?.(rows.length);
      }
      return total;
    },
    async run(sql, params = []) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      statement.run(...params);
    },
  };
  return {
    ...sqliteReadable(db, () => {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }),
    async transaction(work) {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(tx);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    },
    async resetSequences(tables, handedOut) {
      // AUTOINCREMENT keys (knex's increments) record the largest id written in sqlite_sequence by
      // themselves; ids the source handed out to rows since deleted are recorded here.
      const raise = db.prepare('UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?');
      const add = db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)');
      for (const table of tables.filter(hasNumericId)) {
        const seq = handedOut.get(table.name) ?? 0;
        if (seq > 0 && raise.run(seq, table.name).changes === 0) add.run(table.name, seq);
      }
    },
  };
}

function sqliteReadable(db: Database.Database, close: () => void): Readable {
  return {
    dialect: 'sqlite',
    async tables() {
      const names = (
        db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{
          name: string;
          sql: string;
        }>
      ).filter((t) => !NOT_COPIED.has(t.name) && !t.name.startsWith('queue_'));
      return parentsFirst(
        names.map(({ name, sql }) => ({
          name,
          columns: columnsOf(db, name, sql),
          parents: (
            db
              .prepare('SELECT DISTINCT "table" AS parent FROM pragma_foreign_key_list(?)')
              .all(name) as Array<{
              parent: string;
            }>
          ).map((r) => r.parent),
        })),
      );
    },
    async migrations() {
      if (!hasTable(db, 'knex_migrations')) return [];
      return db.prepare('SELECT name FROM knex_migrations ORDER BY id').pluck().all() as string[];
    },
    async hasTable(name) {
      return hasTable(db, name);
    },
    async all(sql, params = []) {
      return db.prepare(sql).all(...params) as Row[];
    },
    async idsHandedOut(tables) {
      const names = new Set(tables.filter(hasNumericId).map((t) => t.name));
      if (names.size === 0 || !hasTable(db, 'sqlite_sequence')) return new Map();
      const rows = db.prepare('SELECT name, seq FROM sqlite_sequence').all() as Array<{
        name: string;
        seq: number;
      }>;
      return new Map(rows.filter((r) => names.has(r.name)).map((r) => [r.name, Number(r.seq)]));
    },
    async *batches(sql, params, size) {
      let batch: Row[] = [];
      for (const row of db.prepare(sql).iterate(...params) as Iterable<Row>) {
        batch.push(row);
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    async foreignKeyViolations(tables) {
      const check = db.prepare(
        'SELECT "table", parent, count(*) AS n FROM pragma_foreign_key_check(?) GROUP BY "table", parent',
      );
      return tables.flatMap((table) =>
        (check.all(table) as Array<{ table: string; parent: string; n: number }>).map(
          (v): ForeignKeyViolation => ({ table: v.table, parent: v.parent, rows: v.n }),
        ),
      );
    },
    async close() {
      close();
    },
  };
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

// Our SQLite columns are loosely typed; the kinds that read back differently from PostgreSQL are
// told by the declared type (boolean, blob) or by the CHECK columns.ts writes for JSON.
function columnsOf(db: Database.Database, table: string, sql: string): Column[] {
  const info = db.prepare('SELECT name, type FROM pragma_table_info(?) ORDER BY cid').all(table) as Array<{
    name: string;
    type: string;
  }>;
  return info.map(({ name, type }) => ({ name, kind: kindOf(type, name, sql) }));
}

function kindOf(declared: string, name: string, tableSql: string): ColumnKind {
  const type = declared.toLowerCase();
  if (type === 'boolean') return 'bool';
  if (type === 'blob') return 'bytes';
  if (/int|real|float|double|numeric|decimal/.test(type)) return 'number';
  if (tableSql.includes(`json_valid("${name}")`)) return 'json';
  return 'text';
}
