export {
  type CatalogKind,
  findJobKind,
  InvalidJobPayloadError,
  isJobKindName,
  JOB_KINDS,
  type JobKindName,
  jobDefaultsOf,
  jobKindNames,
  type PayloadIssue,
  type PayloadOf,
  parseJobPayload,
  payloadIssues,
  payloadJsonSchema,
  toJsonSchema,
  UnknownJobKindError,
} from './catalog.ts';
export {
  DEFAULT_JOB_OPTIONS,
  defineJobKind,
  type JobBackoff,
  type JobDefaults,
  type JobKind,
  type JobStartScope,
  MAX_ROW_ID,
  rowId,
} from './kind.ts';
export {
  ANALYZE_HEALTH_MAX_MODEL_IDS,
  type AnalyzeHealthPayload,
  analyzeHealth,
} from './kinds/analyze-health.ts';
export { type CollectMetricsPayload, collectMetrics } from './kinds/collect-metrics.ts';
export {
  IMPORT_ENTITIES,
  type ImportCsvPayload,
  type ImportCsvResult,
  importCsvKind,
} from './kinds/import-csv.ts';
export { type RebuildCompliancePayload, rebuildCompliance } from './kinds/rebuild-compliance.ts';
export { type RebuildKpiPayload, rebuildKpi } from './kinds/rebuild-kpi.ts';
export { type SystemEchoPayload, systemEcho } from './kinds/system-echo.ts';
export {
  type DebouncedRequest,
  HEALTH_ANALYSIS_DEBOUNCE_MS,
  type JobSender,
  KPI_REBUILD_DEBOUNCE_MS,
  requestHealthAnalysis,
  requestKpiRebuild,
} from './triggers.ts';
