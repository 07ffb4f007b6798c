export {
  bumpCacheVersion,
  CACHE_CHANNEL,
  parseCacheNotification,
  readCacheVersions,
} from './cache-versions.ts';
export {
  CursorSigner,
  cursorSigner,
  InvalidCursorError,
  setDefaultCursorSecret,
} from './cursor-signer.ts';
export {
  ConflictError,
  type ConflictKind,
  DatabaseError,
  DataError,
  isContention,
  isLostConnection,
  isRefusedData,
  isTransientError,
  NotFoundError,
  type PublicDbError,
  publicDbError,
  TransientError,
  toDbError,
} from './errors.ts';
export { type SqlExecutor, sqlExecutor } from './executor.ts';
export {
  countQueries,
  currentQueryStats,
  onQuery,
  type QueryListener,
  type QueryStats,
  withQueryStats,
} from './instrumentation.ts';
export * as inventory from './inventory.ts';
export { type CreateDbOptions, createDb, type Db, type Dialect } from './knex.ts';
export { PgListener, type PgListenerOptions } from './listen.ts';
export {
  createMetricSource,
  deleteMetricSource,
  getMetricSource,
  listMetricSources,
  METRIC_SOURCE_FORMATS,
  type MetricSource,
  type MetricSourceFormat,
  type MetricSourcePatch,
  type NewMetricSource,
  updateMetricSource,
} from './metric-sources.ts';
export { migrateLatest, migrateRollbackAll } from './migrate.ts';
export {
  type CursorValue,
  DEFAULT_PAGE_LIMIT,
  deploymentCursorSecret,
  encodeCursor,
  InvalidPageError,
  MAX_PAGE_LIMIT,
  type OrderBy,
  type Page,
  type PageParams,
  type PaginateOptions,
  paginate,
  parsePageParams,
} from './pagination.ts';
export { queryRows, type RawRow, rawRows } from './raw.ts';
export { type RetryOptions, withRetry } from './retry.ts';
export {
  type LiveWorker,
  listLiveWorkers,
  STALE_AFTER_MS,
  WORKER_REGISTRY_TABLE,
} from './worker-registry.ts';
