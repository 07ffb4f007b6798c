// Writes a batch of validated models in the caller's transaction: one set-based upsert keyed by
// external_id that touches only rows whose values differ, so re-importing a file changes
// nothing (updated_at included) and counts nothing as updated.
//
// The batch goes to the database as one parameter, a JSON array of row arrays, never as a
// statement per row. One string rather than an array per column: while the statement runs (the
// long part of a batch) the client holds one flat string instead of thousands of small ones,
// which kept the worker's heap from growing; the server's JSON parsing is small beside the
// insert itself. The caller keeps external ids unique within a batch: PostgreSQL refuses an
// upsert that touches a row twice.

import type { Knex } from 'knex';
import { prepared, type SqliteConnection } from './sqlite-connection.ts';
import type { ModelRow } from './validate-models.ts';

export interface WriteCounts {
  inserted: number;
  updated: number;
}

// models (PostgreSQL): upsert a batch by external_id, updating only rows that changed.
// Returns one row: how many rows were written and how many of those were inserted (xmax = 0
// on a row version no transaction has replaced). Params: now, now, JSON array of
// [external_id, name, region_id, team_id, risk_tier_id, owner_email, status].
const UPSERT_MODELS_PG = `
  WITH written AS (
  INSERT INTO models AS m
         (created_at, updated_at, external_id, name, region_id, team_id, risk_tier_id, owner_email, status)
  SELECT ?::timestamptz, ?::timestamptz, r ->> 0, r ->> 1, (r ->> 2)::int, (r ->> 3)::int, (r ->> 4)::int,
         r ->> 5, r ->> 6
    FROM json_array_elements(?::json) AS x(r)
  ON CONFLICT (external_id) DO UPDATE
     SET name = EXCLUDED.name, region_id = EXCLUDED.region_id, team_id = EXCLUDED.team_id,
         risk_tier_id = EXCLUDED.risk_tier_id, owner_email = EXCLUDED.owner_email,
         status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
   WHERE (m.name, m.region_id, m.team_id, m.risk_tier_id, m.owner_email, m.status)
         IS DISTINCT FROM
         (EXCLUDED.name, EXCLUDED.region_id, EXCLUDED.team_id, EXCLUDED.risk_tier_id,
          EXCLUDED.owner_email, EXCLUDED.status)
  RETURNING (xmax = 0) AS inserted)
  SELECT count(*) AS written, count(*) FILTER (WHERE inserted) AS inserted FROM written`;

// models (SQLite): the highest id before the batch. ids are AUTOINCREMENT, so a row the upsert
// returns with a higher id was inserted by it, and one at or below it was updated. Params: none.
const MAX_MODEL_ID_SQLITE = 'SELECT coalesce(max(id), 0) AS max_id FROM models';

// models (SQLite): upsert a batch by external_id, updating only rows that changed; returns the
// id of every row written. Params: now, now, JSON array of
// [external_id, name, region_id, team_id, risk_tier_id, owner_email, status].
// (`WHERE true` lets SQLite parse ON CONFLICT after INSERT … SELECT.)
const UPSERT_MODELS_SQLITE = `
  INSERT INTO models
         (created_at, updated_at, external_id, name, region_id, team_id, risk_tier_id, owner_email, status)
  SELECT ?, ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
    FROM json_each(?)
   WHERE true
  ON CONFLICT (external_id) DO UPDATE
     SET name = excluded.name, region_id = excluded.region_id, team_id = excluded.team_id,
         risk_tier_id = excluded.risk_tier_id, owner_email = excluded.owner_email,
         status = excluded.status, updated_at = excluded.updated_at
   WHERE (models.name, models.region_id, models.team_id, models.risk_tier_id, models.owner_email,
          models.status)
         IS NOT
         (excluded.name, excluded.region_id, excluded.team_id, excluded.risk_tier_id,
          excluded.owner_email, excluded.status)
  RETURNING id`;

/** The batch as the statements' JSON parameter. */
function payload(rows: readonly ModelRow[]): string {
  return JSON.stringify(
    rows.map((r) => [r.externalId, r.name, r.regionId, r.teamId, r.riskTierId, r.ownerEmail, r.status]),
  );
}

/** Upserts `rows` (external ids unique among them) in `trx`; `now` stamps created/updated_at. */
export async function writeModelsPostgres(
  trx: Knex.Transaction,
  rows: readonly ModelRow[],
  now: string,
): Promise<WriteCounts> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const result = await trx.raw(UPSERT_MODELS_PG, [now, now, payload(rows)]);
  const [{ written, inserted }] = (result as { rows: Array<{ written: number; inserted: number }> }).rows;
  return { inserted: inserted!, updated: written! - inserted! };
}

/** The same on SQLite, inside the caller's transaction on `conn` (see sqlite-connection.ts). */
export function writeModelsSqlite(
  conn: SqliteConnection,
  rows: readonly ModelRow[],
  now: string,
): WriteCounts {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const { max_id: maxId } = prepared(conn, MAX_MODEL_ID_SQLITE).get() as { max_id: number };
  const written = prepared(conn, UPSERT_MODELS_SQLITE).all(now, now, payload(rows)) as Array<{ id: number }>;
  let inserted = 0;
  for (const { id } of written) if (id > maxId) inserted += 1;
  return { inserted, updated: written.length - inserted };
}
