// The regional compliance report (DESIGN §2.2): for every region, the validations that need its
// approval, how many the region approved, still has pending or rejected, its approval rate, and
// the lag in days from a validation's approval to the region's decision. Computed in one
// set-based statement and stored as one report_snapshots row, which the API serves.
//
// A validation may need several approvals from one region (one per approval_type); the region's
// decision on it is rejected if any of them is rejected, pending if any is still pending, and
// approved otherwise, and it was reached on the latest decided_on among them. The lag counts
// only decided validations that have an approval date.
//
// A rebuild is three statements on SQLite and four on PostgreSQL, whatever the inventory's size,
// in one transaction: the report's rows, the 'compliance' version bump (with its notification on
// PostgreSQL), and the snapshot's upsert.

import { bumpCacheVersion } from '../cache-versions.ts';
import type { Db } from '../knex.ts';
import { type DialectSql, queryDialect } from './dialect-sql.ts';

export const COMPLIANCE_REPORT_KEY = 'regional-compliance';
export const COMPLIANCE_CACHE_FAMILY = 'compliance';

export interface RegionCompliance {
  /** The region's code. */
  region: string;
  regionName: string;
  /** Validations with at least one approval of this region. */
  required: number;
  approved: number;
  pending: number;
  rejected: number;
  /** approved / (approved + rejected), rounded to 4 decimals; null when none is decided. */
  approvalRate: number | null;
  /** Mean days from the validation's approved_on to the region's decision, to 2 decimals. */
  avgLagDays: number | null;
  maxLagDays: number | null;
}

export interface ComplianceReport {
  computedAt: string;
  version: number;
  /** Every region, ordered by code (a region that approves nothing has zeros and nulls). */
  regions: RegionCompliance[];
  totals: Omit<RegionCompliance, 'region' | 'regionName'>;
}

export interface RebuildComplianceResult {
  version: number;
  regions: number;
  computedAt: string;
}

// Per (validation, region): its outcome and decision date, read from approvals in the order of
// approvals_validation_region_type_unique (validation_id, region_id, approval_type), then joined
// to the validation by primary key for its approval date (on PostgreSQL a streaming merge join
// of the two indexes), counted per region id, and only then joined to the few regions (so the
// join does not run once per approval). One row per region out.
const complianceByRegion = (
  lagDays: string,
): string => `-- compliance_by_region: every region's approval counts and lags. No parameters.
WITH decisions AS (
  SELECT a.validation_id, a.region_id,
         count(*) FILTER (WHERE a.status = 'rejected') AS rejected,
         count(*) FILTER (WHERE a.status = 'pending') AS pending,
         max(a.decided_on) AS decided_on
    FROM approvals a
   GROUP BY a.validation_id, a.region_id
),
outcomes AS (
  SELECT d.region_id,
         CASE WHEN d.rejected > 0 THEN 'rejected' WHEN d.pending > 0 THEN 'pending' ELSE 'approved' END AS outcome,
         CASE WHEN d.rejected > 0 OR d.pending = 0 THEN ${lagDays} END AS lag_days
    FROM decisions d
    JOIN validations v ON v.id = d.validation_id
),
by_region AS (
  SELECT region_id,
         count(*) AS required,
         count(*) FILTER (WHERE outcome = 'approved') AS approved,
         count(*) FILTER (WHERE outcome = 'pending') AS pending,
         count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
         count(lag_days) AS lag_count,
         sum(lag_days) AS lag_sum,
         max(lag_days) AS lag_max
    FROM outcomes
   GROUP BY region_id
)
SELECT r.code, r.name,
       coalesce(b.required, 0) AS required,
       coalesce(b.approved, 0) AS approved,
       coalesce(b.pending, 0) AS pending,
       coalesce(b.rejected, 0) AS rejected,
       coalesce(b.lag_count, 0) AS lag_count,
       coalesce(b.lag_sum, 0) AS lag_sum,
       b.lag_max
  FROM regions r
  LEFT JOIN by_region b ON b.region_id = r.id
 ORDER BY r.code`;

/** Every region's counters and lag sums, ordered by code. No parameters. */
export const COMPLIANCE_BY_REGION: DialectSql = {
  // date - date is a whole number of days.
  postgres: complianceByRegion('(d.decided_on - v.approved_on)'),
  sqlite: complianceByRegion('CAST(julianday(d.decided_on) - julianday(v.approved_on) AS integer)'),
};

/** Stores a report snapshot, replacing the previous one. Parameters: key, payload (JSON), computed_at, version. */
export const UPSERT_REPORT_SNAPSHOT: DialectSql = {
  postgres: `-- upsert_report_snapshot: one report's new payload. Parameters: key, payload, computed_at, version.
INSERT INTO report_snapshots (key, payload, computed_at, version)
VALUES (?, CAST(? AS jsonb), CAST(? AS timestamptz), ?)
ON CONFLICT (key) DO UPDATE
   SET payload = excluded.payload, computed_at = excluded.computed_at, version = excluded.version`,
  sqlite: `-- upsert_report_snapshot: one report's new payload. Parameters: key, payload, computed_at, version.
INSERT INTO report_snapshots (key, payload, computed_at, version)
VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE
   SET payload = excluded.payload, computed_at = excluded.computed_at, version = excluded.version`,
};

const READ_REPORT_SNAPSHOT_TEXT = `-- read_report_snapshot: one stored report. Parameters: key.
SELECT payload, computed_at, version FROM report_snapshots WHERE key = ?`;
/** One stored report by key. Parameters: key. */
export const READ_REPORT_SNAPSHOT: DialectSql = {
  postgres: READ_REPORT_SNAPSHOT_TEXT,
  sqlite: READ_REPORT_SNAPSHOT_TEXT,
};

type Row = Record<string, unknown>;

interface Counters {
  required: number;
  approved: number;
  pending: number;
  rejected: number;
  lagCount: number;
  lagSum: number;
  lagMax: number | null;
}

/** The published figures of a region's (or the totals') counters. */
export function complianceFigures(c: Counters): Omit<RegionCompliance, 'region' | 'regionName'> {
  const decided = c.approved + c.rejected;
  return {
    required: c.required,
    approved: c.approved,
    pending: c.pending,
    rejected: c.rejected,
    approvalRate: decided === 0 ? null : Math.round((c.approved * 10_000) / decided) / 10_000,
    avgLagDays: c.lagCount === 0 ? null : Math.round((c.lagSum * 100) / c.lagCount) / 100,
    maxLagDays: c.lagCount === 0 ? null : c.lagMax,
  };
}

function countersOf(row: Row): Counters {
  return {
    required: Number(row.required),
    approved: Number(row.approved),
    pending: Number(row.pending),
    rejected: Number(row.rejected),
    lagCount: Number(row.lag_count),
    lagSum: Number(row.lag_sum),
    lagMax: row.lag_max == null ? null : Number(row.lag_max),
  };
}

/**
 * Recomputes the regional compliance report and replaces the stored one, bumping the
 * 'compliance' cache family in the same transaction (so readers never see the new version
 * without the new report). The number of statements does not depend on the inventory's size.
 * `signal` is checked before the read and between the read and the writes.
 */
export async function rebuildComplianceReport(
  db: Db,
  options: { now?: Date; signal?: AbortSignal } = {},
): Promise<RebuildComplianceResult> {
  const computedAt = (options.now ?? new Date()).toISOString();
  options.signal?.throwIfAborted();
  return db.knex.transaction(async (trx) => {
    const rows = await queryDialect(trx, db, COMPLIANCE_BY_REGION, []);
    // Aborted while reading: roll back rather than land a report nobody waits for.
    options.signal?.throwIfAborted();
    const totals: Counters = {
      required: 0,
      approved: 0,
      pending: 0,
      rejected: 0,
      lagCount: 0,
      lagSum: 0,
      lagMax: null,
    };
    const regions = rows.map((row): RegionCompliance => {
      const c = countersOf(row);
      totals.required += c.required;
      totals.approved += c.approved;
      totals.pending += c.pending;
      totals.rejected += c.rejected;
      totals.lagCount += c.lagCount;
      totals.lagSum += c.lagSum;
      if (c.lagMax !== null) totals.lagMax = Math.max(totals.lagMax ?? c.lagMax, c.lagMax);
      return { region: String(row.code), regionName: String(row.name), ...complianceFigures(c) };
    });
    const version = await bumpCacheVersion(trx, db.dialect, COMPLIANCE_CACHE_FAMILY, computedAt);
    const report: ComplianceReport = { computedAt, version, regions, totals: complianceFigures(totals) };
    await queryDialect(trx, db, UPSERT_REPORT_SNAPSHOT, [
      COMPLIANCE_REPORT_KEY,
      JSON.stringify(report),
      computedAt,
      version,
    ]);
    return { version, regions: regions.length, computedAt };
  });
}

/** The stored regional compliance report, or null before the first rebuild. */
export async function readComplianceReport(db: Db): Promise<ComplianceReport | null> {
  const [row] = await queryDialect(db.knex, db, READ_REPORT_SNAPSHOT, [COMPLIANCE_REPORT_KEY]);
  if (row === undefined) return null;
  // jsonb arrives parsed from pg; SQLite keeps the text.
  return (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as ComplianceReport;
}
