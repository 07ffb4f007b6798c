// Writes a batch of validated validations in the caller's transaction.
//
// A validations CSV has no id of its own, so the import keys a validation by everything it
// says: (model, kind, status, approved_on). A row equal on those four to a validation already
// stored is skipped, so re-importing a file changes nothing. What this cannot do: recognise a
// validation whose status moved on (a row `planned` then a row `approved` for the same model
// and kind are two validations). Nothing is ever updated; skipped rows count as unchanged.
//
// Models are resolved per batch with one `WHERE external_id IN (…)` query; a row whose model
// does not exist is rejected with its line.

import type { Knex } from 'knex';
import type { CsvRowError } from './parse.ts';
import { prepared, type SqliteConnection } from './sqlite-connection.ts';
import { quote } from './validate-models.ts';
import type { ValidationRow } from './validate-validations.ts';

export interface ValidationWriteResult {
  inserted: number;
  rejected: CsvRowError[];
}

// validations (PostgreSQL): insert a batch, skipping rows equal on (model_id, kind, status,
// approved_on) to a stored validation (the import's key; validations_model_kind_status_approved_on_idx
// answers the lookup). Returns one row: how many were inserted. Params: created_at, JSON
// array of [model_id, kind, status, approved_on or null] (one string: see write-models.ts).
const INSERT_VALIDATIONS_PG = `
  WITH inserted AS (
  INSERT INTO validations (created_at, model_id, kind, status, approved_on)
  SELECT ?::timestamptz, x.model_id, x.kind, x.status, x.approved_on
    FROM json_array_elements(?::json) AS e(r),
         LATERAL (SELECT (r ->> 0)::int, r ->> 1, r ->> 2, (r ->> 3)::date) AS x(model_id, kind, status, approved_on)
   WHERE NOT EXISTS (
           SELECT 1 FROM validations v
            WHERE v.model_id = x.model_id AND v.kind = x.kind AND v.status = x.status
              AND v.approved_on IS NOT DISTINCT FROM x.approved_on)
  RETURNING 1)
  SELECT count(*) AS inserted FROM inserted`;

// models (SQLite): ids of the models a batch names. Params: JSON array of external ids.
const SELECT_MODELS_SQLITE =
  'SELECT id, external_id FROM models WHERE external_id IN (SELECT value FROM json_each(?))';

// validations (SQLite): the same insert. Params: created_at, JSON array of
// [model_id, kind, status, approved_on or null].
const INSERT_VALIDATIONS_SQLITE = `
  INSERT INTO validations (created_at, model_id, kind, status, approved_on)
  SELECT ?, x.value ->> 0, x.value ->> 1, x.value ->> 2, x.value ->> 3
    FROM json_each(?) AS x
   WHERE NOT EXISTS (
           SELECT 1 FROM validations v
            WHERE v.model_id = x.value ->> 0 AND v.kind = x.value ->> 1 AND v.status = x.value ->> 2
              AND v.approved_on IS x.value ->> 3)`;

/** The key a validation is deduplicated by, with the model still named by its external id. */
export function validationKey(row: ValidationRow): string {
  return `${row.modelExternalId}\u0000${row.kind}\u0000${row.status}\u0000${row.approvedOn ?? ''}`;
}

/** Splits `rows` into those whose model exists (with its id) and the rejected rest. */
function resolve(rows: readonly ValidationRow[], found: Array<{ id: number; external_id: string }>) {
  const modelIds = new Map(found.map((m) => [m.external_id, m.id]));
  const rejected: CsvRowError[] = [];
  const known: Array<{ modelId: number; row: ValidationRow }> = [];
  for (const row of rows) {
    const modelId = modelIds.get(row.modelExternalId);
    if (modelId === undefined) {
      rejected.push({ line: row.line, reason: `model ${quote(row.modelExternalId)} does not exist` });
    } else {
      known.push({ modelId, row });
    }
  }
  return { known, rejected };
}

/** The batch as the statements' JSON parameter. */
function payload(known: ReadonlyArray<{ modelId: number; row: ValidationRow }>): string {
  return JSON.stringify(known.map((k) => [k.modelId, k.row.kind, k.row.status, k.row.approvedOn]));
}

const externalIdsOf = (rows: readonly ValidationRow[]) => [...new Set(rows.map((r) => r.modelExternalId))];

/** Inserts `rows` (keys unique among them) in `trx`, rejecting rows whose model is unknown. */
export async function writeValidationsPostgres(
  trx: Knex.Transaction,
  rows: readonly ValidationRow[],
  now: string,
): Promise<ValidationWriteResult> {
  if (rows.length === 0) return { inserted: 0, rejected: [] };
  const found = await trx('models').select('id', 'external_id').whereIn('external_id', externalIdsOf(rows));
  const { known, rejected } = resolve(rows, found);
  if (known.length === 0) return { inserted: 0, rejected };
  const result = await trx.raw(INSERT_VALIDATIONS_PG, [now, payload(known)]);
  return { inserted: (result as { rows: Array<{ inserted: number }> }).rows[0]!.inserted, rejected };
}

/** The same on SQLite, inside the caller's transaction on `conn` (see sqlite-connection.ts). */
export function writeValidationsSqlite(
  conn: SqliteConnection,
  rows: readonly ValidationRow[],
  now: string,
): ValidationWriteResult {
  if (rows.length === 0) return { inserted: 0, rejected: [] };
  const found = prepared(conn, SELECT_MODELS_SQLITE).all(JSON.stringify(externalIdsOf(rows))) as Array<{
    id: number;
    external_id: string;
  }>;
  const { known, rejected } = resolve(rows, found);
  if (known.length === 0) return { inserted: 0, rejected };
  return { inserted: prepared(conn, INSERT_VALIDATIONS_SQLITE).run(now, payload(known)).changes, rejected };
}
