// The version of each cache family (`kpi`, `compliance`, `health`, …), kept in `cache_versions`.
// A job that lands a rebuild bumps its family's version in the same transaction as the new
// rows, so readers can tell a stale L1 entry without reading the payload. On PostgreSQL the
// bump also notifies CACHE_CHANNEL (delivered at commit, never for a rolled-back rebuild), so
// every process drops its L1 entries at once; on SQLite readers compare versions instead.
import type { Knex } from 'knex';
import type { Dialect } from './knex.ts';
import { queryRows } from './raw.ts';

/** The LISTEN/NOTIFY channel; each notification's payload is `<family>:<version>`. */
export const CACHE_CHANNEL = 'offload_cache';

const BUMP = `INSERT INTO cache_versions (family, version, updated_at)
VALUES (?, 1, ?)
ON CONFLICT (family) DO UPDATE
   SET version = cache_versions.version + 1, updated_at = excluded.updated_at
RETURNING version`;

/** Parses a CACHE_CHANNEL payload; null for anything else. */
export function parseCacheNotification(payload: string): { family: string; version: number } | null {
  const at = payload.lastIndexOf(':');
  if (at <= 0) return null;
  const version = Number(payload.slice(at + 1));
  if (!Number.isSafeInteger(version)) return null;
  return { family: payload.slice(0, at), version };
}

/**
 * Moves `family` to its next version and returns it. Call it inside the transaction that writes
 * the family's new rows: it is one statement on SQLite and two on PostgreSQL, whatever the size
 * of the rebuild.
 */
export async function bumpCacheVersion(
  executor: Knex | Knex.Transaction,
  dialect: Dialect,
  family: string,
  now: string = new Date().toISOString(),
): Promise<number> {
  const rows = await queryRows<{ version: number | string }>(executor, BUMP, [family, now]);
  const version = Number(rows[0]!.version);
  if (dialect === 'postgres') {
    await executor.raw('SELECT pg_notify(?, ?)', [CACHE_CHANNEL, `${family}:${version}`]);
  }
  return version;
}

/** Every family's current version, in one query. */
export async function readCacheVersions(executor: Knex | Knex.Transaction): Promise<Map<string, number>> {
  const rows: Array<{ family: string; version: number | string }> = await executor('cache_versions').select(
    'family',
    'version',
  );
  return new Map(rows.map((row) => [row.family, Number(row.version)]));
}
