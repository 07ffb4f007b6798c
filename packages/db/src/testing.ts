// The database harness every suite uses. A suite runs once per backend:
//
//   for (const kind of testDatabases()) {
//     describe(kind, () => {
//       let t: TestDb;
//       beforeAll(async () => { t = await createTestDb(kind); });
//       afterAll(() => t.destroy());
//       …
//     });
//   }
//
// Each createTestDb is a private, already migrated database (a copy of the run's template), so
// test files run in parallel without sharing rows.
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, type Db } from './knex.ts';

export { eventually, freePort } from './test-helpers.ts';

import {
  databaseUrlFor,
  SQLITE_TEST_DIR,
  type TestDatabasesInfo,
  timestampedName,
} from './test-templates.ts';

export type TestDatabaseKind = 'sqlite' | 'postgres';

export interface TestDb {
  kind: TestDatabaseKind;
  databaseUrl: string;
  db: Db;
  /** Closes the pool and deletes the database. */
  destroy(): Promise<void>;
}

export interface EmptyPgDatabase {
  name: string;
  databaseUrl: string;
  destroy(): Promise<void>;
}

let info: TestDatabasesInfo | undefined;
let warned = false;

function testInfo(): TestDatabasesInfo {
  if (info !== undefined) return info;
  try {
    info = inject('offloadTestDatabases');
  } catch {
    // Not inside a vitest worker.
  }
  // Without the global setup (another vitest config, a script), build the templates the same
  // race-safe way in a child process: this must stay synchronous for describe() loops.
  info ??= prepareInChildProcess();
  return info;
}

function prepareInChildProcess(): TestDatabasesInfo {
  const script = join(import.meta.dirname, 'test-templates-cli.ts');
  const result = spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`preparing test databases failed (exit ${result.status})`);
  return JSON.parse(result.stdout) as TestDatabasesInfo;
}

/**
 * The backends to run suites against: always SQLite; PostgreSQL when reachable at
 * TEST_DATABASE_URL. Unreachable PostgreSQL is a failure under CI=true, a warning otherwise.
 */
export function testDatabases(): TestDatabaseKind[] {
  const { postgres } = testInfo();
  if (postgres !== null) return ['sqlite', 'postgres'];
  if (process.env.CI === 'true') {
    throw new Error('PostgreSQL is not reachable at TEST_DATABASE_URL and CI=true requires it');
  }
  if (!warned) {
    warned = true;
    console.warn('PostgreSQL is not reachable at TEST_DATABASE_URL: running SQLite suites only');
  }
  return ['sqlite'];
}

/** A private database, migrated unless `migrate: false` (then empty). */
export async function createTestDb(
  kind: TestDatabaseKind,
  { migrate = true }: { migrate?: boolean } = {},
): Promise<TestDb> {
  return kind === 'sqlite' ? createSqliteTestDb(migrate) : createPostgresTestDb(migrate);
}

async function createSqliteTestDb(migrate: boolean): Promise<TestDb> {
  const path = join(SQLITE_TEST_DIR, `${timestampedName('t')}.db`);
  if (migrate) copyFileSync(testInfo().sqliteTemplate, path);
  const databaseUrl = `sqlite:${path}`;
  const db = createDb({ databaseUrl });
  return {
    kind: 'sqlite',
    databaseUrl,
    db,
    async destroy() {
      await db.destroy();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
}

async function createPostgresTestDb(migrate: boolean): Promise<TestDb> {
  const { adminUrl, template } = requirePostgres();
  const empty = await createPgDatabase(adminUrl, migrate ? template : 'template0');
  const db = createDb({ databaseUrl: empty.databaseUrl, poolMax: 5 });
  return {
    kind: 'postgres',
    databaseUrl: empty.databaseUrl,
    db,
    async destroy() {
      await db.destroy();
      await empty.destroy();
    },
  };
}

/** A blank PostgreSQL database (no tables), for suites that create their own schemas. */
export async function createEmptyPgDatabase(): Promise<EmptyPgDatabase> {
  return createPgDatabase(requirePostgres().adminUrl, 'template0');
}

function requirePostgres(): NonNullable<TestDatabasesInfo['postgres']> {
  const { postgres } = testInfo();
  if (postgres === null) throw new Error('PostgreSQL is not reachable at TEST_DATABASE_URL');
  return postgres;
}

async function createPgDatabase(adminUrl: string, template: string): Promise<EmptyPgDatabase> {
  const name = timestampedName('offload_t');
  await withAdmin(adminUrl, async (admin) => {
    // 55006: someone is connected to the source database (only possible if they opened a
    // template by hand); it is brief, so try again.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
      }
    }
  });
  return {
    name,
    databaseUrl: databaseUrlFor(name),
    async destroy() {
      // FORCE: a suite that failed may have left connections (a queue worker) behind.
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(url: string, fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}
