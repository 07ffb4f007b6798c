// The database a load run works on, and its inventory. Three cases:
//   - DATABASE_URL given: that database, used as it is; it is seeded only when its inventory is
//     empty (a database seeded by an earlier run is reused, so a second run starts in seconds);
//   - `--db sqlite` (the default without DATABASE_URL): a new SQLite file under .tmp/, deleted
//     afterwards;
//   - `--db postgres`: a new database `offload_load_<pid>` on the server of TEST_DATABASE_URL,
//     dropped afterwards (never the `test` database itself).
// After seeding, the KPI snapshots are built by the stack itself (see ./run.ts), not here.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseDatabaseUrl, redactUrl } from '@offload/config';
import { createDb, migrateLatest } from '@offload/db';
import { seedDatabase } from '@offload/db/seed';

export const DATABASE_CHOICES = ['sqlite', 'postgres'] as const;
export type DatabaseChoice = (typeof DATABASE_CHOICES)[number];

export interface LoadDatabase {
  url: string;
  dialect: 'sqlite' | 'postgres';
  /** What the report says about it (no password). */
  label: string;
  /** Deletes the database when the run created it; a no-op otherwise. */
  dispose(): Promise<void>;
}

export interface InventoryReport {
  models: number;
  seeded: boolean;
  seedMs: number;
}

/**
 * The database to load: `givenUrl` (DATABASE_URL) when set, otherwise a fresh one of `choice`,
 * created next to the repository (`root`) or on the server of `testDatabaseUrl`.
 */
export async function openLoadDatabase(options: {
  givenUrl: string | undefined;
  choice: DatabaseChoice;
  root: string;
  testDatabaseUrl: string;
}): Promise<LoadDatabase> {
  if (options.givenUrl !== undefined) {
    const target = parseDatabaseUrl(options.givenUrl);
    return {
      url: options.givenUrl,
      dialect: target.kind,
      label: `${target.kind} (DATABASE_URL ${redactUrl(options.givenUrl)})`,
      dispose: async () => {},
    };
  }
  if (options.choice === 'sqlite') {
    const dir = path.join(options.root, '.tmp', `load-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    return {
      url: `sqlite:${path.join(dir, 'offload.db')}`,
      dialect: 'sqlite',
      label: 'sqlite (a new file, deleted afterwards)',
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `offload_load_${process.pid}`;
  const server = new URL(options.testDatabaseUrl);
  const adminUrl = withDatabase(server, 'postgres');
  await withAdmin(adminUrl, (run) => run(`CREATE DATABASE ${name}`));
  return {
    url: withDatabase(server, name),
    dialect: 'postgres',
    label: `postgres (a new database ${name} on ${server.host}, dropped afterwards)`,
    dispose: () => withAdmin(adminUrl, (run) => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

function withDatabase(server: URL, name: string): string {
  const url = new URL(server.href);
  url.pathname = `/${name}`;
  return url.href;
}

async function withAdmin(url: string, fn: (run: (sql: string) => Promise<unknown>) => Promise<unknown>) {
  const db = createDb({ databaseUrl: url, poolMax: 1 });
  try {
    await fn((sql) => db.knex.raw(sql));
  } finally {
    await db.destroy();
  }
}

/**
 * Migrates the database and seeds `models` models when its inventory is empty. A database that
 * already has models is used as it is (its own count is reported).
 */
export async function prepareInventory(url: string, models: number): Promise<InventoryReport> {
  const db = createDb({ databaseUrl: url, poolMax: 2 });
  try {
    await migrateLatest(db);
    const count = async () => {
      const [row] = await db.knex('models').count<Array<{ count: number | string }>>({ count: '*' });
      return Number(row?.count ?? 0);
    };
    const existing = await count();
    if (existing > 0) return { models: existing, seeded: false, seedMs: 0 };
    const report = await seedDatabase(db, { models, quiet: true });
    return { models: report.models, seeded: true, seedMs: report.totalMs };
  } finally {
    await db.destroy();
  }
}
