// @offload/db/reports: reports computed in set-based SQL and stored in the cache tables, which
// the worker's rebuild jobs write and the API reads.
export {
  computeModelStatuses,
  HEALTH_STATUSES,
  type HealthCount,
  type KpiAttestation,
  type KpiScope,
  type KpiSnapshot,
  kpiSnapshotKey,
  type ModelStatus,
  type RebuildKpiOptions,
  type RebuildKpiResult,
  readKpiSnapshot,
  rebuildKpiSnapshots,
  type StoredKpiSnapshot,
} from './kpi.ts';
