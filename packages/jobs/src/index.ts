export {
  type CatalogKind,
  findJobKind,
  InvalidJobPayloadError,
  isJobKindName,
  JOB_KINDS,
  type JobKindName,
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
} from './kind.ts';
export { type SystemEchoPayload, systemEcho } from './kinds/system-echo.ts';
export {
  type DebouncedRequest,
  type JobSender,
  KPI_REBUILD_DEBOUNCE_MS,
  requestKpiRebuild,
} from './triggers.ts';
