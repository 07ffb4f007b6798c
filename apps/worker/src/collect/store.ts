// collect.metrics' writes, set-based: per batch of records one query resolves the models by
// external_id and one INSERT … ON CONFLICT (model_id, metric, observed_at) DO NOTHING stores the
// new observations, so collecting a source again inserts nothing twice.
import { type Db, queryRows } from '@offload/db';
import type { MetricRecord, RecordError } from './records.ts';

export interface StoredBatch {
  inserted: number;
  /** The distinct models the inserted rows belong to (from RETURNING, no extra query). */
  insertedModelIds: Set<number>;
  /** Valid records already stored (or repeated within the batch). */
  skipped: number;
  /** Records naming a model that does not exist. */
  rejected: RecordError[];
}

/**
 * insert_observations: the batch's rows, those already stored left alone; RETURNING names the
 * rows actually inserted. Multi-row VALUES by hand: knex writes SQLite multi-row inserts as a
 * compound SELECT, limited to 500 rows.
 */
const INSERT_OBSERVATIONS = (
  rows: number,
) => `INSERT INTO model_metrics (model_id, metric, observed_at, value)
VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?)').join(', ')}
ON CONFLICT (model_id, metric, observed_at) DO NOTHING
RETURNING model_id`;

export async function storeObservations(db: Db, records: readonly MetricRecord[]): Promise<StoredBatch> {
  if (records.length === 0) return { inserted: 0, insertedModelIds: new Set(), skipped: 0, rejected: [] };
  const externalIds = [...new Set(records.map((record) => record.externalId))];
  const models: Array<{ id: number | string; external_id: string }> = await db
    .knex('models')
    .select('id', 'external_id')
    .whereIn('external_id', externalIds);
  const idOf = new Map(models.map((model) => [model.external_id, Number(model.id)]));

  const rows: Array<{ model_id: number; metric: string; observed_at: string; value: number }> = [];
  const rejected: RecordError[] = [];
  for (const record of records) {
    const modelId = idOf.get(record.externalId);
    if (modelId === undefined) {
      rejected.push({
        line: record.line,
        reason: `no model has external_id ${JSON.stringify(record.externalId)}`,
      });
      continue;
    }
    rows.push({
      model_id: modelId,
      metric: record.metric,
      observed_at: record.observedAt,
      value: record.value,
    });
  }
  if (rows.length === 0) return { inserted: 0, insertedModelIds: new Set(), skipped: 0, rejected };
  const inserted = await queryRows<{ model_id: number | string }>(
    db.knex,
    INSERT_OBSERVATIONS(rows.length),
    rows.flatMap((row) => [row.model_id, row.metric, row.observed_at, row.value]),
  );
  return {
    inserted: inserted.length,
    insertedModelIds: new Set(inserted.map((row) => Number(row.model_id))),
    skipped: rows.length - inserted.length,
    rejected,
  };
}
