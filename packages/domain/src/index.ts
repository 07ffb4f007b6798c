// @offload/domain: the model-risk rules as pure functions (no I/O), shared by the API, the
// worker's jobs, the seed generator and the golden tests that hold the SQL to them.
export {
  addDays,
  addMonthsClamped,
  compareDates,
  fromEpochDay,
  type IsoDate,
  isIsoDate,
  todayUtc,
  toEpochDay,
} from './calendar.ts';
export { createRng, Rng } from './random.ts';
export {
  bucketOf,
  COMPLIANCE_BUCKETS,
  type ComplianceBucket,
  REVALIDATION_STATUSES,
  type RevalidationInput,
  type RevalidationStatus,
  revalidationStatus,
  type TierSchedule,
  VALIDATION_KINDS,
  VALIDATION_STATUSES,
  type ValidationFacts,
  type ValidationKind,
  type ValidationStatus,
} from './revalidation.ts';
