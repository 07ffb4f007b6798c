// A PostgreSQL database as either end of a copy, on one connection of a knex pool (whose type
// parsers give instants, dates, JSON and bigints the forms SQLite gives: see ../knex.ts). The
// reader holds one REPEATABLE READ READ ONLY transaction for the whole copy: one snapshot, and
// the server itself refuses any write. The writer streams each table with COPY … FROM STDIN.
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createDb, type Db } from '../knex.ts';
import {
  type Column,
  type ForeignKeyViolation,
  hasNumericId,
  NOT_COPIED,
  parentsFirst,
  quoteIdent,
  type Readable,
  type Row,
  type Writable,
  type WriteTransaction,
} from './side.ts';
import { type ColumnKind, copyField } from './values.ts';

// Large enough that per-write overhead vanishes, small enough to keep memory flat.
const FLUSH_CHARS = 1 << 20;

interface KnexClient {
  acquireConnection(): Promise<pg.Client>;
  releaseConnection(connection: pg.Client): Promise<void>;
}

const COLUMNS = `
  SELECT c.table_name, c.column_name, c.data_type
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
   WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
   ORDER BY c.table_name, c.ordinal_position`;

const PARENTS = `
  SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent
    FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`;

// Each foreign key with its column pairs, to count the rows whose key points at no row.
const FOREIGN_KEYS = `
  SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
         array_agg(a.attname::text ORDER BY k.n) AS child_columns,
         array_agg(p.attname::text ORDER BY k.n) AS parent_columns
    FROM pg_constraint c
    CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(child_col, parent_col, n)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.child_col
    JOIN pg_attribute p ON p.attrelid = c.confrelid AND p.attnum = k.parent_col
   WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
     AND c.conrelid::regclass::text = ANY($1)
   GROUP BY c.oid, c.conrelid, c.confrelid`;

function kindOf(dataType: string): ColumnKind {
  if (dataType === 'boolean') return 'bool';
  if (dataType === 'json' || dataType === 'jsonb') return 'json';
  if (dataType === 'bytea') return 'bytes';
  if (/integer|bigint|smallint|double|real|numeric/.test(dataType)) return 'number';
  return 'text';
}

interface Connection {
  db: Db;
  conn: pg.Client;
  release(): Promise<void>;
}

async function connect(url: string): Promise<Connection> {
  const db = createDb({ databaseUrl: url, poolMax: 1 });
  const client = db.knex.client as KnexClient;
  const conn = await client.acquireConnection().catch(async (err: unknown) => {
    await db.destroy();
    throw err;
  });
  return {
    db,
    conn,
    async release() {
      await client.releaseConnection(conn);
      await db.destroy();
    },
  };
}

export async function openPostgresReader(url: string): Promise<Readable> {
  const connection = await connect(url);
  await connection.conn.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  return postgresReadable(connection.conn, true, async () => {
    await connection.conn.query('COMMIT').catch(() => {});
    await connection.release();
  });
}

export async function openPostgresWriter(url: string): Promise<Writable> {
  const connection = await connect(url);
  const { conn } = connection;
  const tx: WriteTransaction = {
    async load(table, source, onRows) {
      const columns = table.columns.map((c) => quoteIdent(c.name)).join(', ');
      const stream = conn.query(copyFrom(`COPY ${quoteIdent(table.name)} (${columns}) FROM STDIN`));
      const kinds = table.columns.map((c) => c.kind);
      const names = table.columns.map((c) => c.name);
      let chunk = '';
      let total = 0;
      try {
        for await (const rows of source) {
          for (const row of rows) {
            let line = copyField(kinds[0]!, row[names[0]!]);
            for (let i = 1; i < names.length; i++) line += `\t${copyField(kinds[i]!, row[names[i]!])}`;
            chunk += `${line}\n`;
            if (chunk.length >= FLUSH_CHARS) {
              // events.once rejects if the stream errors first, so a failed COPY cannot hang us.
              if (!stream.write(chunk)) await once(stream, 'drain');
              chunk = '';
            }
          }
          total += rows.length;
          onRows?.(rows.length);
        }
        stream.end(chunk);
        await finished(stream);
      } catch (err) {
        // The server answers a destroyed COPY with an error the stream re-emits: ours is the one to report.
        stream.on('error', () => {});
        stream.destroy();
        throw err;
      }
      return total;
    },
    async run(sql, params = []) {
      await conn.query(sql, params);
    },
  };
  return {
    ...postgresReadable(conn, false, () => connection.release()),
    async transaction(work) {
      await conn.query('BEGIN');
      try {
        const result = await work(tx);
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => {});
        throw err;
      }
    },
    async resetSequences(tables, handedOut) {
      for (const table of tables) {
        if (!hasNumericId(table)) continue;
        await conn.query(
          `SELECT setval(s.seq, GREATEST(COALESCE((SELECT max(id) FROM ${quoteIdent(table.name)}), 0), $2) + 1, false)
             FROM (SELECT pg_get_serial_sequence($1, 'id') AS seq) s WHERE s.seq IS NOT NULL`,
          [table.name, handedOut.get(table.name) ?? 0],
        );
      }
    },
  };
}

/** `inTransaction`: the reader's snapshot; the writer's reads open a transaction of their own. */
function postgresReadable(conn: pg.Client, inTransaction: boolean, close: () => Promise<void>): Readable {
  let cursors = 0;
  const hasTable = async (name: string): Promise<boolean> =>
    (await conn.query('SELECT to_regclass($1) IS NOT NULL AS found', [name])).rows[0].found as boolean;
  return {
    dialect: 'postgres',
    async tables() {
      const columns = new Map<string, Column[]>();
      for (const row of (await conn.query(COLUMNS)).rows as Array<Record<string, string>>) {
        const name = row['table_name']!;
        if (NOT_COPIED.has(name)) continue;
        const list = columns.get(name) ?? [];
        list.push({ name: row['column_name']!, kind: kindOf(row['data_type']!) });
        columns.set(name, list);
      }
      const parents = new Map<string, string[]>();
      for (const row of (await conn.query(PARENTS)).rows as Array<{ child: string; parent: string }>) {
        parents.set(row.child, [...(parents.get(row.child) ?? []), row.parent]);
      }
      return parentsFirst(
        [...columns].map(([name, cols]) => ({ name, columns: cols, parents: parents.get(name) ?? [] })),
      );
    },
    async migrations() {
      if (!(await hasTable('knex_migrations'))) return [];
      return (await conn.query('SELECT name FROM knex_migrations ORDER BY id')).rows.map((r) =>
        String(r.name),
      );
    },
    hasTable,
    async all(sql, params = []) {
      return (await conn.query(sql, params)).rows as Row[];
    },
    async idsHandedOut(tables) {
      const handedOut = new Map<string, number>();
      for (const table of tables.filter(hasNumericId)) {
        const [{ seq }] = (await conn.query(`SELECT pg_get_serial_sequence($1, 'id') AS seq`, [table.name]))
          .rows as Array<{ seq: string | null }>;
        if (seq === null) continue;
        // `seq` comes quoted from the server. Sequences are outside the snapshot: the value is now's.
        const { rows } = await conn.query(
          `SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS n FROM ${seq}`,
        );
        handedOut.set(table.name, Number(rows[0].n));
      }
      return handedOut;
    },
    async *batches(sql, params, size) {
      // A cursor needs a transaction.
      const name = `copy_cursor_${++cursors}`;
      if (!inTransaction) await conn.query('BEGIN READ ONLY');
      try {
        await conn.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params);
        for (;;) {
          const { rows } = await conn.query(`FETCH ${size} FROM ${name}`);
          if (rows.length > 0) yield rows as Row[];
          if (rows.length < size) break;
        }
        await conn.query(`CLOSE ${name}`);
      } finally {
        if (!inTransaction) await conn.query('COMMIT').catch(() => {});
      }
    },
    async foreignKeyViolations(tables) {
      const keys = (await conn.query(FOREIGN_KEYS, [tables])).rows as Array<{
        child: string;
        parent: string;
        child_columns: string[];
        parent_columns: string[];
      }>;
      const violations: ForeignKeyViolation[] = [];
      for (const key of keys) {
        const match = key.child_columns
          .map((c, i) => `p.${quoteIdent(key.parent_columns[i]!)} = c.${quoteIdent(c)}`)
          .join(' AND ');
        const present = key.child_columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
        const { rows } = await conn.query(
          `SELECT count(*) AS n FROM ${quoteIdent(key.child)} c
            WHERE ${present} AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(key.parent)} p WHERE ${match})`,
        );
        const n = Number(rows[0].n);
        if (n > 0) violations.push({ table: key.child, parent: key.parent, rows: n });
      }
      return violations;
    },
    close,
  };
}
