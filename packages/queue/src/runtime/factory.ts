// Picks the backend from DATABASE_URL: `sqlite:<path>` → our SQLite backend, `postgres://…` →
// the pg-boss backend. Each is imported only when chosen, so an embedded install never loads
// pg-boss and a PostgreSQL one never opens better-sqlite3.
import { parseDatabaseUrl } from '@offload/config';
import type { PgBossBackendOptions } from '../drivers/postgres/backend.ts';
import type { SqliteBackendOptions } from '../drivers/sqlite/backend.ts';
import type { QueueBackend } from '../types.ts';
import type { KindDefaultsResolver } from './insert.ts';

export interface QueueBackendOptions {
  /**
   * Per-kind send options (build it from the job catalog): every send that leaves an option out,
   * from any path (API, triggers, cron ticks, scripts), takes the kind's value before the queue's.
   */
  defaults?: KindDefaultsResolver;
  /** The deployment's cursor secret (see SqliteBackendOptions.cursorSecret); both backends sign with it. */
  cursorSecret?: string;
  /** Passed to the SQLite backend (busy timeout, watch and maintenance intervals, retention). */
  sqlite?: Omit<SqliteBackendOptions, 'path'>;
  /** Passed to the pg-boss backend (pool size, schema, maintenance intervals). */
  pgboss?: Omit<PgBossBackendOptions, 'connectionString'>;
}

/** A new, unstarted backend for `databaseUrl`; call `start()` on it (workers with maintenance on). */
export async function createQueueBackend(
  databaseUrl: string,
  options: QueueBackendOptions = {},
): Promise<QueueBackend> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite') {
    const { createSqliteBackend } = await import('../drivers/sqlite/backend.ts');
    return createSqliteBackend({
      ...options.sqlite,
      path: target.path,
      defaults: options.defaults,
      cursorSecret: options.cursorSecret,
    });
  }
  const { createPgBossBackend } = await import('../drivers/postgres/backend.ts');
  return createPgBossBackend({
    ...options.pgboss,
    connectionString: target.url,
    defaults: options.defaults,
    cursorSecret: options.cursorSecret,
  });
}
