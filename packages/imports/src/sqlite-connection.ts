// SQLite batches run on the Db's better-sqlite3 connection itself, not through knex. knex
// prepares every statement anew and leaves it to the garbage collector to finalize, so an
// import of a million rows made thousands of prepared statements whose native memory lingered
// until a full GC (the worker's RSS grew by tens of MB). Here each statement is prepared once
// per connection and the batch runs synchronously in one BEGIN IMMEDIATE transaction: it takes
// the write lock up front, so it never has to upgrade a read lock another writer got in
// between. The connection is held only for that synchronous run, never across an await.
//
// These queries bypass knex's query events (the query counters of @offload/db do not see them).

import type { Db } from '@offload/db';
import type BetterSqlite3 from 'better-sqlite3';

export type SqliteConnection = BetterSqlite3.Database;

/** The part of knex's client this module uses: its connection pool. */
interface PooledClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
}

const statements = new WeakMap<SqliteConnection, Map<string, BetterSqlite3.Statement>>();

/** `sql` prepared once per connection. */
export function prepared(conn: SqliteConnection, sql: string): BetterSqlite3.Statement {
  let cache = statements.get(conn);
  if (cache === undefined) {
    cache = new Map();
    statements.set(conn, cache);
  }
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = conn.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

/** Runs `write` in one BEGIN IMMEDIATE transaction on the Db's connection; rolls back if it throws. */
export async function inSqliteTransaction<T>(db: Db, write: (conn: SqliteConnection) => T): Promise<T> {
  const client = db.knex.client as unknown as PooledClient;
  const conn = (await client.acquireConnection()) as SqliteConnection;
  try {
    return conn.transaction(() => write(conn)).immediate();
  } finally {
    await client.releaseConnection(conn);
  }
}
