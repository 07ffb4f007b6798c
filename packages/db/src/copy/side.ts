// The two ends of a copy, behind one interface per role: a side read under one snapshot (never
// written: SQLite opened read-only, PostgreSQL in a READ ONLY transaction), and a side written
// one table per transaction (so an interrupted copy leaves whole tables behind, and `--resume`
// can tell which are done by counting).
import { parseDatabaseUrl, redactUrl } from '@offload/config';
import type { Dialect } from '../knex.ts';
import type { ColumnKind } from './values.ts';

export interface Column {
  name: string;
  kind: ColumnKind;
}

export interface TableInfo {
  name: string;
  columns: Column[];
  /** Tables this one's foreign keys point at. */
  parents: string[];
}

export type Row = Record<string, unknown>;

export interface ForeignKeyViolation {
  table: string;
  parent: string;
  rows: number;
}

/** Reads shared by both roles. */
export interface Readable {
  readonly dialect: Dialect;
  /** The application's tables (the queue's and the bookkeeping's left out), parents first. */
  tables(): Promise<TableInfo[]>;
  /** Names of the applied migrations. */
  migrations(): Promise<string[]>;
  /** Whether `schema.table` (PostgreSQL) or `table` (SQLite) exists. */
  hasTable(name: string): Promise<boolean>;
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  /** The rows of a query, a batch at a time, in constant memory. */
  batches(sql: string, params: unknown[], size: number): AsyncIterable<Row[]>;
  /**
   * Per table keyed by a numeric `id`, the largest id its key has handed out, deleted rows'
   * included (PostgreSQL's sequence, SQLite's sqlite_sequence): the target must not hand them out
   * again, since an idempotent replay or a log may still name them.
   */
  idsHandedOut(tables: readonly TableInfo[]): Promise<Map<string, number>>;
  /** Rows whose foreign keys point at no row, per table and parent. */
  foreignKeyViolations(tables: readonly string[]): Promise<ForeignKeyViolation[]>;
  close(): Promise<void>;
}

export interface WriteTransaction {
  /**
   * Appends the rows of `source` to `table` (one COPY on PostgreSQL, multi-row INSERTs on
   * SQLite), calling `onRows` after each batch; returns how many.
   */
  load(table: TableInfo, source: AsyncIterable<Row[]>, onRows?: (rows: number) => void): Promise<number>;
  run(sql: string, params?: unknown[]): Promise<void>;
}

export interface Writable extends Readable {
  /** Runs `work` in one transaction, committed when it returns, rolled back when it throws. */
  transaction<T>(work: (tx: WriteTransaction) => Promise<T>): Promise<T>;
  /** Moves each table's next id past its largest id and past `handedOut`'s (the source's). */
  resetSequences(tables: readonly TableInfo[], handedOut: ReadonlyMap<string, number>): Promise<void>;
}

/** `flag` names the database in an error (`--from`, `--to`). */
export async function openReader(databaseUrl: string, flag: string): Promise<Readable> {
  const target = parseDatabaseUrl(databaseUrl, flag);
  return opening(flag, databaseUrl, async () => {
    if (target.kind === 'sqlite') {
      const { openSqliteReader } = await import('./sqlite-side.ts');
      return openSqliteReader(target.path);
    }
    const { openPostgresReader } = await import('./postgres-side.ts');
    return openPostgresReader(target.url);
  });
}

export async function openWriter(databaseUrl: string, flag: string): Promise<Writable> {
  const target = parseDatabaseUrl(databaseUrl, flag);
  return opening(flag, databaseUrl, async () => {
    if (target.kind === 'sqlite') {
      const { openSqliteWriter } = await import('./sqlite-side.ts');
      return openSqliteWriter(target.path);
    }
    const { openPostgresWriter } = await import('./postgres-side.ts');
    return openPostgresWriter(target.url);
  });
}

/** A database named by `--from` or `--to` could not be opened; the message says which and what to check. */
export class DatabaseOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseOpenError';
  }
}

/** Runs `open`, turning its failure into a DatabaseOpenError naming the database and what to do. */
export async function opening<T>(flag: string, databaseUrl: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DatabaseOpenError(
      `cannot open ${flag} ${redactUrl(databaseUrl)} (${reason}): ${whatToCheck(err, flag, databaseUrl)}`,
    );
  }
}

function whatToCheck(err: unknown, flag: string, databaseUrl: string): string {
  if (parseDatabaseUrl(databaseUrl, flag).kind === 'sqlite') {
    return flag === '--to'
      ? 'check the path: its directory must exist and be writable'
      : 'check the path: it must name an existing SQLite database';
  }
  switch ((err as { code?: unknown } | null)?.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return "check that PostgreSQL is running and the URL's host and port";
    case '3D000': // invalid_catalog_name
      return flag === '--to'
        ? "check the URL's database name: a copy's target is created first (createdb, or CREATE DATABASE)"
        : "check the URL's database name";
    case '28P01': // invalid_password
    case '28000': // invalid_authorization_specification
      return "check the URL's user and password";
    default:
      return 'check the URL, and that the database is reachable from here';
  }
}

/** An identifier quoted for either dialect. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Whether the table is keyed by a numeric `id` (an increments column, on either side). */
export const hasNumericId = (table: TableInfo): boolean =>
  table.columns.some((c) => c.name === 'id' && c.kind === 'number');

/** Tables that are not the application's data: bookkeeping of migrations, and live processes. */
export const NOT_COPIED = new Set([
  'knex_migrations',
  'knex_migrations_lock',
  'sqlite_sequence',
  'sqlite_stat1',
  'sqlite_stat4',
  // Live worker processes: they belong to the database they run on, and none may run during a copy.
  'worker_registry',
]);

/** Parents before children; ties by name, so both sides list tables in the same order. */
export function parentsFirst(tables: TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const ordered: TableInfo[] = [];
  const visit = (table: TableInfo, path: Set<string>) => {
    if (done.has(table.name) || path.has(table.name)) return;
    path.add(table.name);
    for (const parent of [...table.parents].sort()) {
      const p = byName.get(parent);
      if (p !== undefined && parent !== table.name) visit(p, path);
    }
    done.add(table.name);
    ordered.push(table);
  };
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(table, new Set());
  return ordered;
}
