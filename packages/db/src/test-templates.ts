// Migrated template databases for tests, built once per test run (by the vitest global setup)
// and cloned per test file by testing.ts. Runs may overlap (several engineers, CI, watch mode),
// so every step is race-safe and leaves only what a crashed run can have left: databases and
// files whose names carry their creation time, swept after an hour.
//
// Names: offload_tpl_<migrations hash> (template), offload_b_<time>_<rand> (a template being
// built), offload_t_<time>_<rand> (one test's database). SQLite files mirror them in
// <tmpdir>/offload-test/.
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, redactUrl } from '@offload/config';
import pg from 'pg';
import { createDb } from './knex.ts';
import { migrateLatest } from './migrate.ts';

export interface TestDatabasesInfo {
  /** Migrations hash the templates were built from. */
  hash: string;
  sqliteTemplate: string;
  /** null when PostgreSQL is unreachable (and CI is not set). */
  postgres: { adminUrl: string; template: string } | null;
}

declare module 'vitest' {
  interface ProvidedContext {
    offloadTestDatabases: TestDatabasesInfo;
  }
}

const STALE_MS = 60 * 60 * 1000;
// Bump when the way templates are built changes without the migrations changing.
const HARNESS_VERSION = '1';
// Serializes template builds and sweeps across every overlapping run on one server.
const ADVISORY_LOCK_KEY = 7_310_255_001;

export const SQLITE_TEST_DIR = join(tmpdir(), 'offload-test');

export function adminUrl(): string {
  return loadConfig({ TEST_DATABASE_URL: process.env.TEST_DATABASE_URL }).testDatabaseUrl;
}

export function databaseUrlFor(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** A name that tells the sweeper when it was made: `<prefix>_<base36 ms>_<random>`. */
export function timestampedName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

function createdAtOf(name: string): number | undefined {
  const match = /_([0-9a-z]{8,9})_[0-9a-f]{8}(?:\.|$)/.exec(name);
  return match === null ? undefined : Number.parseInt(match[1]!, 36);
}

export function migrationsHash(): string {
  const dir = join(import.meta.dirname, 'migrations');
  const hash = createHash('sha256').update(HARNESS_VERSION);
  for (const file of readdirSync(dir).sort()) {
    hash.update(file).update(readFileSync(join(dir, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

export async function isPostgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Builds (or reuses) the templates for the current migrations and sweeps stale leftovers.
 * PostgreSQL is skipped when unreachable, unless CI=true, where that is an error.
 */
export async function prepareTestTemplates(): Promise<TestDatabasesInfo> {
  const hash = migrationsHash();
  const sqliteTemplate = await prepareSqliteTemplate(hash);
  const url = adminUrl();
  if (!(await isPostgresReachable(url))) {
    const message = `PostgreSQL at ${redactUrl(url)} (TEST_DATABASE_URL) is not reachable`;
    if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it`);
    console.warn(`${message}: PostgreSQL suites are skipped`);
    return { hash, sqliteTemplate, postgres: null };
  }
  const template = await preparePostgresTemplate(url, hash);
  return { hash, sqliteTemplate, postgres: { adminUrl: url, template } };
}

async function prepareSqliteTemplate(hash: string): Promise<string> {
  mkdirSync(SQLITE_TEST_DIR, { recursive: true });
  sweepSqliteFiles(hash);
  const template = join(SQLITE_TEST_DIR, `template-${hash}.db`);
  if (existsSync(template)) {
    // Marks it in use, so an overlapping run with other migrations does not sweep it.
    const now = new Date();
    utimesSync(template, now, now);
    return template;
  }
  // Built aside and renamed into place: a reader sees no template or a complete one.
  const building = join(SQLITE_TEST_DIR, `${timestampedName('building')}.db`);
  const db = createDb({ databaseUrl: `sqlite:${building}` });
  try {
    await migrateLatest(db);
    // Copies take only the main file: fold the WAL into it first.
    await db.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await db.destroy();
  }
  renameSync(building, template);
  for (const suffix of ['-wal', '-shm']) rmSync(building + suffix, { force: true });
  return template;
}

function sweepSqliteFiles(hash: string): void {
  const now = Date.now();
  for (const file of readdirSync(SQLITE_TEST_DIR)) {
    const path = join(SQLITE_TEST_DIR, file);
    try {
      const isTemplate = file.startsWith('template-');
      if (isTemplate && file.startsWith(`template-${hash}.`)) continue;
      const created = isTemplate ? statSync(path).mtimeMs : (createdAtOf(file) ?? statSync(path).mtimeMs);
      if (now - created > STALE_MS) rmSync(path, { force: true });
    } catch {
      // Another run removed it first.
    }
  }
}

async function preparePostgresTemplate(url: string, hash: string): Promise<string> {
  const template = `offload_tpl_${hash}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (exists.rowCount === 0) {
      // Built under another name and renamed when complete: a run that crashed mid-build
      // leaves an offload_b_ database for the sweeper, never a half-migrated template.
      const building = timestampedName('offload_b');
      await admin.query(`CREATE DATABASE ${building} TEMPLATE template0`);
      const db = createDb({ databaseUrl: databaseUrlFor(building), poolMax: 1 });
      try {
        await migrateLatest(db);
      } finally {
        await db.destroy();
      }
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
      // No one connects to a template, so cloning it never fails with "being accessed".
      await admin.query(`ALTER DATABASE ${template} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    }
    await admin.query(
      `COMMENT ON DATABASE ${template} IS 'offload test template, last used ${new Date().toISOString()}'`,
    );
    await sweepPostgres(admin, template);
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]).catch(() => {});
    await admin.end();
  }
  return template;
}

async function sweepPostgres(admin: pg.Client, currentTemplate: string): Promise<void> {
  // The LIKE patterns never match `test`, `postgres` or `template0/1`.
  const { rows } = await admin.query<{ datname: string; comment: string | null }>(
    String.raw`SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database
      WHERE datname LIKE 'offload\_t\_%' OR datname LIKE 'offload\_b\_%' OR datname LIKE 'offload\_tpl\_%'`,
  );
  const now = Date.now();
  for (const { datname, comment } of rows) {
    if (datname === currentTemplate) continue;
    const isTemplate = datname.startsWith('offload_tpl_');
    const created = isTemplate
      ? Date.parse(/last used (\S+)/.exec(comment ?? '')?.[1] ?? '')
      : createdAtOf(datname);
    if (created === undefined || Number.isNaN(created) || now - created <= STALE_MS) continue;
    try {
      if (isTemplate) await admin.query(`ALTER DATABASE ${datname} WITH IS_TEMPLATE false`);
      // Without FORCE: a database someone is still connected to is left alone.
      await admin.query(`DROP DATABASE IF EXISTS ${datname}`);
    } catch {
      // In use or already gone: the next sweep will try again.
    }
  }
}
