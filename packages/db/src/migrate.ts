import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { Db } from './knex.ts';
import { migrationSource } from './migrations/index.ts';

const config: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

// An API and a worker started together both migrate. knex refuses the second with
// MigrationLocked instead of waiting, and when both find no bookkeeping tables, both create
// them and one fails; either way the first is doing the work, so wait and try again. (A
// failed knex batch is rolled back whole, so trying again is safe.)
const LOCK_WAIT_MS = 60_000;

/** Applies every pending migration; returns the names applied (empty when up to date). */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await whenUnlocked(() => db.knex.migrate.latest(config))) as [number, string[]];
  return applied;
}

/** Reverts every applied migration, dropping all of the domain's tables. */
export async function migrateRollbackAll(db: Db): Promise<string[]> {
  const [, reverted] = (await whenUnlocked(() => db.knex.migrate.rollback(config, true))) as [
    number,
    string[],
  ];
  return reverted;
}

async function whenUnlocked<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (!isConcurrentMigration(err) || Date.now() > deadline) throw err;
      await sleep(100 + Math.random() * 200);
    }
  }
}

function isConcurrentMigration(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MigrationLocked') return true;
  // SQLite: `table knex_migrations already exists`; PostgreSQL: 42P07 duplicate_table, or
  // 23505 on pg_type when both CREATE TABLEs race to the catalog.
  const code = (err as { code?: unknown }).code;
  const racedOnBookkeeping = /create table [`"]?knex_migrations/i.test(err.message);
  return racedOnBookkeeping && (/already exists/.test(err.message) || code === '42P07' || code === '23505');
}
