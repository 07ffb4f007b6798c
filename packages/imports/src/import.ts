// The import.csv job's work: stream a CSV, validate each record, write the valid ones in
// batches, report counts and the first rejected rows by line.
//
//   source ─► parseCsv (a chunk at a time) ─► validate ─► batch of ~500 ─► one transaction
//
// Each batch is one transaction (retried whole on a transient error: writes are idempotent),
// so a failure or a cancellation leaves the batches already committed in place and a re-run
// of the same file completes the import without changing them. One batch is written while
// the next is parsed and validated; the source is read no faster than batches are committed,
// so memory stays at about two batches and one chunk, whatever the file size.

import { type Db, withRetry } from '@offload/db';
import type { Knex } from 'knex';
import { type CsvRecord, type CsvRowError, type CsvSource, parseCsv } from './parse.ts';
import { inSqliteTransaction, type SqliteConnection } from './sqlite-connection.ts';
import type { UploadEntity } from './storage.ts';
import { loadModelReferences, MODEL_COLUMNS, type ModelRow, validateModel } from './validate-models.ts';
import { VALIDATION_COLUMNS, type ValidationRow, validateValidation } from './validate-validations.ts';
import { writeModelsPostgres, writeModelsSqlite } from './write-models.ts';
import { validationKey, writeValidationsPostgres, writeValidationsSqlite } from './write-validations.ts';

export const DEFAULT_BATCH_SIZE = 500;
/** Rejected rows kept in the result (the ones with the lowest line numbers); all are counted. */
export const MAX_REPORTED_ERRORS = 100;
const PROGRESS_INTERVAL_MS = 250;

// (PostgreSQL) A batch's COMMIT returns without waiting for its WAL to reach disk: it saves a
// flush per batch (a quarter of the import's time in the benchmark). Safe here: a crash can
// lose only the last batches committed (never part of one), the import is idempotent and its
// job is retried, and the job's own completion, committed synchronously afterwards, flushes
// the WAL up to it, so a job seen completed has all its rows on disk. Params: none.
const ASYNC_COMMIT_PG = 'SET LOCAL synchronous_commit = off';

export interface ImportProgress {
  /** Bytes of the source read so far. */
  bytes: number;
  /** Records read so far (header excluded), written or not yet. */
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface ImportResult extends ImportProgress {
  /** Records read (header excluded): inserted + updated + unchanged + rejected unless cancelled. */
  read: number;
  /** The first MAX_REPORTED_ERRORS rejected records, by line. */
  errors: CsvRowError[];
  /** The signal stopped the import: batches committed before it stay; the counts say what was done. */
  cancelled: boolean;
}

export interface ImportOptions {
  entity: UploadEntity;
  source: CsvSource;
  /** Checked between batches; when aborted, the import stops and resolves with `cancelled`. */
  signal?: AbortSignal;
  /** After the first batch, then at most every 250 ms, and once at the end. Keep it cheap. */
  onProgress?: (progress: ImportProgress) => void;
  /** Rows per transaction. Default 500. */
  batchSize?: number;
  /** The clock stamping created_at/updated_at. Default: the system clock. */
  now?: () => Date;
}

/** How one entity's records become rows, and rows are written. */
interface Pipeline<Row extends { line: number }> {
  columns: readonly string[];
  check(record: CsvRecord): Row | string;
  key(row: Row): string;
  /**
   * A key seen twice in one batch: models `flush` the batch first (the later row then updates
   * the earlier, as if written one by one); validations `skip` (the same validation again).
   */
  onDuplicate: 'flush' | 'skip';
  writePostgres(trx: Knex.Transaction, rows: Row[], now: string): Promise<Written>;
  writeSqlite(conn: SqliteConnection, rows: Row[], now: string): Written;
}

interface Written {
  inserted: number;
  updated: number;
  rejected: CsvRowError[];
}

async function modelsPipeline(db: Db): Promise<Pipeline<ModelRow>> {
  const refs = await loadModelReferences(db.knex);
  return {
    columns: MODEL_COLUMNS,
    check: (record) => validateModel(record, refs),
    key: (row) => row.externalId,
    onDuplicate: 'flush',
    writePostgres: async (trx, rows, now) => ({
      ...(await writeModelsPostgres(trx, rows, now)),
      rejected: [],
    }),
    writeSqlite: (conn, rows, now) => ({ ...writeModelsSqlite(conn, rows, now), rejected: [] }),
  };
}

function validationsPipeline(): Pipeline<ValidationRow> {
  return {
    columns: VALIDATION_COLUMNS,
    check: validateValidation,
    key: validationKey,
    onDuplicate: 'skip',
    writePostgres: async (trx, rows, now) => ({
      ...(await writeValidationsPostgres(trx, rows, now)),
      updated: 0,
    }),
    writeSqlite: (conn, rows, now) => ({ ...writeValidationsSqlite(conn, rows, now), updated: 0 }),
  };
}

/**
 * Imports a models or validations CSV from `source` into `db`. Throws CsvFormatError when the
 * file as a whole is wrong (empty, wrong header or delimiter, a record that never ends), and
 * the database's error when a batch fails for good; batches committed before stay either way.
 */
export async function importCsv(db: Db, options: ImportOptions): Promise<ImportResult> {
  return options.entity === 'models'
    ? run(db, await modelsPipeline(db), options)
    : run(db, validationsPipeline(), options);
}

async function run<Row extends { line: number }>(
  db: Db,
  pipeline: Pipeline<Row>,
  options: ImportOptions,
): Promise<ImportResult> {
  const { signal, onProgress, batchSize = DEFAULT_BATCH_SIZE, now = () => new Date() } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const counts: ImportProgress = { bytes: 0, rows: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
  const errors = new ErrorList(MAX_REPORTED_ERRORS);
  const reject = (error: CsvRowError) => {
    counts.rejected += 1;
    errors.add(error);
  };
  let lastProgress = Number.NEGATIVE_INFINITY;
  const report = (force: boolean) => {
    if (onProgress === undefined) return;
    const at = performance.now();
    if (!force && at - lastProgress < PROGRESS_INTERVAL_MS) return;
    lastProgress = at;
    onProgress({ ...counts });
  };

  let batch: Row[] = [];
  let keys = new Set<string>();
  let inFlight: Promise<void> | undefined;
  let failure: { error: unknown } | undefined;
  let cancelled = false;

  const writeBatch = async (rows: Row[]) => {
    const stamp = now().toISOString();
    const written = await withRetry(() =>
      db.dialect === 'postgres'
        ? db.knex.transaction(async (trx) => {
            await trx.raw(ASYNC_COMMIT_PG);
            return pipeline.writePostgres(trx, rows, stamp);
          })
        : inSqliteTransaction(db, (conn) => pipeline.writeSqlite(conn, rows, stamp)),
    );
    counts.inserted += written.inserted;
    counts.updated += written.updated;
    counts.unchanged += rows.length - written.inserted - written.updated - written.rejected.length;
    for (const error of written.rejected) reject(error);
    report(false);
  };

  /** Waits for the batch in flight, then starts writing the current one (unless cancelled). */
  const flush = async () => {
    await inFlight;
    if (failure !== undefined) throw failure.error;
    if (signal?.aborted) {
      cancelled = true;
      return;
    }
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    keys = new Set();
    inFlight = writeBatch(rows).catch((error: unknown) => {
      failure = { error };
    });
  };

  try {
    reading: for await (const chunk of parseCsv(options.source, { columns: pipeline.columns })) {
      counts.bytes = chunk.bytes;
      counts.rows += chunk.records.length + chunk.errors.length;
      for (const error of chunk.errors) reject(error);
      for (const record of chunk.records) {
        const row = pipeline.check(record);
        if (typeof row === 'string') {
          reject({ line: record.line, reason: row });
          continue;
        }
        const key = pipeline.key(row);
        if (keys.has(key)) {
          if (pipeline.onDuplicate === 'skip') {
            counts.unchanged += 1;
            continue;
          }
          await flush();
          if (cancelled) break reading;
        }
        keys.add(key);
        batch.push(row);
        if (batch.length >= batchSize) {
          await flush();
          if (cancelled) break reading;
        }
      }
    }
    if (!cancelled) await flush();
    await inFlight;
    if (failure !== undefined) throw failure.error;
  } finally {
    // On a throw, let the batch in flight settle before the caller closes the database.
    await inFlight;
  }
  report(true);
  return { ...counts, read: counts.rows, errors: errors.sorted(), cancelled };
}

/** Keeps the `limit` rejected rows with the lowest lines, in line order, whatever order they come in. */
class ErrorList {
  private items: CsvRowError[] = [];
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  add(error: CsvRowError): void {
    this.items.push(error);
    if (this.items.length >= this.limit * 2) this.items = this.sorted();
  }

  sorted(): CsvRowError[] {
    return this.items.sort((a, b) => a.line - b.line).slice(0, this.limit);
  }
}
