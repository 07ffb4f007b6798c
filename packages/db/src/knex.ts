import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseDatabaseUrl } from '@offload/config';
import type BetterSqlite3 from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { instrument } from './instrumentation.ts';

export type Dialect = 'sqlite' | 'postgres';

/**
 * One database handle per process. Conventions that hold on both dialects:
 * - instants are written and read as ISO-8601 UTC strings with milliseconds
 *   (`2026-11-22T07:35:21.123Z`): text in SQLite, timestamptz(3) in PostgreSQL;
 * - calendar dates are `YYYY-MM-DD` strings: text in SQLite, date in PostgreSQL;
 * - JSON columns are written and read as JSON text (jsonb in PostgreSQL), so a cached payload
 *   can be sent as it is stored;
 * - bigint, numeric and counts read back as numbers;
 * - booleans read back as true/false from PostgreSQL but 1/0 from SQLite: test truthiness.
 */
export interface Db {
  readonly knex: Knex;
  readonly dialect: Dialect;
  destroy(): Promise<void>;
}

export interface CreateDbOptions {
  /**
   * `sqlite:<path>` or `postgres://…`. Open one Db per SQLite file per process: better-sqlite3
   * waits on the file lock synchronously, so two handles in one process can stall each other.
   */
  databaseUrl: string;
  /** PostgreSQL pool size (DATABASE_POOL_MAX). SQLite always uses one connection per process. */
  poolMax?: number;
}

// Fail fast instead of knex's 60 s: a request waiting that long for a connection has already
// failed for its caller, and the pool timeout maps to a TransientError the API can answer 503.
const ACQUIRE_TIMEOUT_MS = 10_000;

export function createDb(options: CreateDbOptions): Db {
  const target = parseDatabaseUrl(options.databaseUrl);
  const knex = target.kind === 'sqlite' ? sqliteKnex(target.path) : postgresKnex(target.url, options.poolMax);
  const detach = instrument(knex);
  return {
    knex,
    dialect: target.kind,
    async destroy() {
      detach();
      await knex.destroy();
    },
  };
}

function sqliteKnex(path: string): Knex {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path },
    useNullAsDefault: true,
    // Error messages then carry the SQL with placeholders, not the bound values (API key
    // hashes, e-mail addresses), so they are safe to log.
    compileSqlOnError: false,
    acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
    // SQLite has one writer per file; more connections in one process would only queue on the
    // file lock (and an in-memory database exists once per connection).
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: BetterSqlite3.Database, done: (err: Error | null, conn: unknown) => void) {
        try {
          conn.pragma('journal_mode = WAL');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('foreign_keys = ON');
          conn.pragma('synchronous = NORMAL');
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  });
  // knex binds a Date as epoch milliseconds in SQLite; our instants are ISO text there, and
  // the columns' CHECKs would refuse a number, so bind a Date as PostgreSQL would read it.
  const client = knex.client as { _formatBindings(bindings: unknown[] | undefined): unknown[] };
  const formatBindings = client._formatBindings.bind(client);
  client._formatBindings = (bindings) =>
    formatBindings(bindings?.map((value) => (value instanceof Date ? value.toISOString() : value)));
  return knex;
}

function postgresKnex(url: string, poolMax = 10): Knex {
  return knexFactory({
    client: 'pg',
    connection: {
      connectionString: url,
      // Per connection, not pg.types.setTypeParser: pg-boss shares the pg module and must keep
      // its own parsing.
      types: pgTypes,
      // Calendar-date arithmetic in SQL (now()::date, date_trunc) follows the session zone.
      options: '-c TimeZone=UTC',
    },
    compileSqlOnError: false, // as for SQLite
    acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
    pool: { min: 0, max: poolMax },
  });
}

const OID = {
  int8: 20,
  json: 114,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  jsonb: 3802,
} as const;

const identity = (text: string): string => text;

/** `2026-11-22 07:35:21.123+00` → `2026-11-22T07:35:21.123Z`; ±infinity stay as PostgreSQL wrote them. */
function isoInstant(text: string, assumeUtc: boolean): string {
  const normalized = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  const date = new Date(assumeUtc ? `${normalized}Z` : normalized);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

const textParsers = new Map<number, (text: string) => unknown>([
  [OID.int8, Number],
  [OID.numeric, Number],
  [OID.date, identity],
  [OID.json, identity],
  [OID.jsonb, identity],
  [OID.timestamptz, (text) => isoInstant(text, false)],
  [OID.timestamp, (text) => isoInstant(text, true)],
]);

const pgTypes: Knex.PgCustomTypesConfig = {
  getTypeParser(oid: number, format: string) {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary');
    return textParsers.get(oid) ?? pg.types.getTypeParser(oid, 'text');
  },
};
