// @offload/db/reports: reports computed in set-based SQL and stored in the cache tables, which
// the worker's rebuild jobs write and the API reads.
export {
  type AttestationCycleCounts,
  attestationCycleCountsQuery,
  COUNT_ATTESTATION_CYCLES,
  listAttestationCycleCounts,
} from './attestations.ts';
export {
  COMPLIANCE_BY_REGION,
  COMPLIANCE_CACHE_FAMILY,
  COMPLIANCE_REPORT_KEY,
  type ComplianceReport,
  type RebuildComplianceResult,
  type RegionCompliance,
  readComplianceReport,
  rebuildComplianceReport,
} from './compliance.ts';
export {
  computeModelStatuses,
  HEALTH_STATUSES,
  type HealthCount,
  KPI_CACHE_FAMILY,
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
