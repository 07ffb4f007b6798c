// @offload/imports: CSV imports of models and validations (DESIGN §3 import.csv, §4 uploads).
// The API stores uploads through an UploadStore; the worker's import.csv handler opens the
// upload and runs importCsv on it, then deletes the upload.
export { type CsvValue, neutraliseCsvValue, toCsvRow } from './csv-out.ts';
export {
  DEFAULT_BATCH_SIZE,
  type ImportOptions,
  type ImportProgress,
  type ImportResult,
  importCsv,
  MAX_REPORTED_ERRORS,
} from './import.ts';
export {
  type CsvBatch,
  CsvFormatError,
  type CsvRawRecord,
  type CsvRecord,
  type CsvRowError,
  type CsvSource,
  CsvTokenizer,
  MAX_RECORD_CHARS,
  type ParseCsvOptions,
  parseCsv,
} from './parse.ts';
export {
  DEFAULT_COMPLETE_MAX_AGE_MS,
  DEFAULT_INCOMPLETE_MAX_AGE_MS,
  DEFAULT_PURGE_INTERVAL_MS,
  startUploadPurge,
  type UploadPurge,
  type UploadPurgeOptions,
} from './purge.ts';
export {
  type ByteSource,
  createUploadStore,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_UPLOAD_DIRECTORY,
  defaultUploadDirectory,
  UPLOAD_ENTITIES,
  type UploadEntity,
  type UploadInfo,
  type UploadStore,
  type UploadStoreOptions,
  UploadTooLargeError,
  type UploadWriter,
} from './storage.ts';
export { applyWorkerV8Flags, WORKER_V8_FLAGS } from './v8-flags.ts';
export { MODEL_COLUMNS, MODEL_STATUSES } from './validate-models.ts';
export { VALIDATION_COLUMNS } from './validate-validations.ts';
