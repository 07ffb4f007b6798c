// analyze.health's reads and writes, set-based: per batch of models one query for the batch's
// ids, one for their observations in the windows and one upsert of their verdicts (plus one
// delete when some models have no verdict); the run ends with one transaction that bumps the
// 'health' cache family and stamps the run's rows with that version. None of this grows with
// the number of models in a batch.
import { bumpCacheVersion, type Db } from '@offload/db';
import type { ModelHealthVerdict, ObservationColumns } from '../tasks/health-math.ts';

/**
 * next_active_models: the next `limit` active models after `afterId`, by id. Fetches one extra
 * row so the caller knows whether another batch follows without a further query.
 */
export async function nextActiveModels(
  db: Db,
  afterId: number,
  limit: number,
): Promise<{ ids: number[]; more: boolean }> {
  const rows: Array<{ id: number | string }> = await db
    .knex('models')
    .select('id')
    .where('status', 'active')
    .andWhere('id', '>', afterId)
    .orderBy('id')
    .limit(limit + 1);
  const ids = rows.map((row) => Number(row.id));
  const more = ids.length > limit;
  return { ids: more ? ids.slice(0, limit) : ids, more };
}

/** active_among: the active models among `ids`, by id. */
export async function activeModelsAmong(db: Db, ids: readonly number[]): Promise<number[]> {
  const rows: Array<{ id: number | string }> = await db
    .knex('models')
    .select('id')
    .where('status', 'active')
    .whereIn('id', ids)
    .orderBy('id');
  return rows.map((row) => Number(row.id));
}

/**
 * observed_at as epoch milliseconds, computed by the database: reading tens of thousands of
 * instants as numbers costs a fraction of parsing them as timestamps in JavaScript (measured on
 * PostgreSQL: about half the read). SQLite's instants are `YYYY-MM-DDTHH:MM:SS.sssZ` (a CHECK
 * holds them to it), so seconds plus the three digits of milliseconds are exact.
 */
const OBSERVED_MS = {
  postgres: '(extract(epoch from observed_at) * 1000)::float8',
  sqlite: "CAST(strftime('%s', observed_at) AS INTEGER) * 1000 + CAST(substr(observed_at, 21, 3) AS INTEGER)",
} as const;

/** window_observations: the models' observations in (from, to], by model, metric and time. */
export async function readWindowObservations(
  db: Db,
  modelIds: readonly number[],
  from: string,
  to: string,
): Promise<ObservationColumns> {
  const rows: Array<{
    model_id: number | string;
    metric: string;
    observed_ms: number | string;
    value: number | string;
  }> = await db
    .knex('model_metrics')
    .select('model_id', 'metric', db.knex.raw(`${OBSERVED_MS[db.dialect]} AS observed_ms`), 'value')
    .whereIn('model_id', modelIds)
    .andWhere('observed_at', '>', from)
    .andWhere('observed_at', '<=', to)
    .orderBy([{ column: 'model_id' }, { column: 'metric' }, { column: 'observed_at' }]);
  const columns: ObservationColumns = { modelId: [], metric: [], observedMs: [], value: [] };
  for (const row of rows) {
    columns.modelId.push(Number(row.model_id));
    columns.metric.push(row.metric);
    columns.observedMs.push(Number(row.observed_ms));
    columns.value.push(Number(row.value));
  }
  return columns;
}

/**
 * upsert_health: one statement for the batch's verdicts (version 0 until the run lands), and one
 * delete of the health rows of models that have no verdict any more (unknown). Multi-row VALUES
 * by hand: knex writes SQLite multi-row inserts as a compound SELECT, limited to 500 rows.
 */
const UPSERT_HEALTH = (
  rows: number,
) => `INSERT INTO model_health (model_id, status, payload, details, computed_at, version)
VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, 0)').join(', ')}
ON CONFLICT (model_id) DO UPDATE
   SET status = excluded.status, payload = excluded.payload, details = excluded.details,
       computed_at = excluded.computed_at, version = excluded.version`;

export async function writeVerdicts(
  db: Db,
  verdicts: readonly ModelHealthVerdict[],
  computedAt: string,
): Promise<void> {
  const known = verdicts.filter((verdict) => verdict.status !== null);
  const unknown = verdicts.filter((verdict) => verdict.status === null).map((verdict) => verdict.modelId);
  await db.knex.transaction(async (trx) => {
    if (known.length > 0) {
      await trx.raw(
        UPSERT_HEALTH(known.length),
        known.flatMap((verdict) => [
          verdict.modelId,
          verdict.status,
          JSON.stringify(verdict.payload),
          JSON.stringify(verdict.details),
          computedAt,
        ]),
      );
    }
    if (unknown.length > 0) await trx('model_health').whereIn('model_id', unknown).delete();
  });
}

/** land_health: bumps the 'health' family and stamps this run's rows with the new version. */
export async function landHealthRun(db: Db, computedAt: string, now: string): Promise<number> {
  return db.knex.transaction(async (trx) => {
    const version = await bumpCacheVersion(trx, db.dialect, 'health', now);
    await trx('model_health').where('computed_at', computedAt).update({ version });
    return version;
  });
}
