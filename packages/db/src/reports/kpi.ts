// The KPI report (DESIGN §2.2): every scope's counts computed in set-based SQL as of a date
// and stored in kpi_snapshots, which the API serves as they are.
//
// A rebuild issues the same statements whatever the size of the inventory. In one read
// transaction (one snapshot; on PostgreSQL first a SET LOCAL for a serial plan):
//   1. the attestation cycle to report on;
//   2. every scope's counters (kpi-sql.ts: the §2.1 rule for all active models, counted per
//      (region, team) and summed up to regions, teams and the whole inventory);
//   3. the regions and teams, so scopes without active models still get a snapshot;
//   4. every attestation cycle's record counts, grouped in the database (attestations.ts);
// then, in one write transaction: 5. bump the 'kpi' cache version (bumpCacheVersion, which on
// PostgreSQL also notifies the caches, delivered at commit), 6. delete the previous set,
// 7. insert the new one from a single JSON array, 8.-9. replace the attestation cycle counts
// the same way, which the API serves under the same version. Nine statements on SQLite,
// eleven on PostgreSQL. JavaScript only shapes the scope rows into payloads and passes the
// per-cycle rows through; it never sees a model or a record.

import {
  bucketOf,
  COMPLIANCE_BUCKETS,
  type ComplianceBucket,
  type IsoDate,
  isIsoDate,
  REVALIDATION_STATUSES,
  type RevalidationStatus,
  todayUtc,
} from '@offload/domain';
import { bumpCacheVersion } from '../cache-versions.ts';
import type { Db } from '../knex.ts';
import { countAttestationCycles, writeAttestationCycleCounts } from './attestations.ts';
import { queryDialect } from './dialect-sql.ts';
import {
  DELETE_KPI_SNAPSHOTS,
  INSERT_KPI_SNAPSHOTS,
  KPI_SCOPE_COUNTS,
  KPI_SCOPES,
  LATEST_ATTESTATION_CYCLE,
  MODEL_STATUSES,
  READ_KPI_SNAPSHOT,
  SERIAL_PLAN_POSTGRES,
} from './kpi-sql.ts';

/** The cache family a landed KPI rebuild bumps. */
export const KPI_CACHE_FAMILY = 'kpi';

export const HEALTH_STATUSES = ['ok', 'warn', 'alert', 'unknown'] as const;
export type HealthCount = (typeof HEALTH_STATUSES)[number];

/** A KPI scope: the whole inventory, a region, a team, or a region and a team, by code. */
export interface KpiScope {
  region?: string | null;
  team?: string | null;
}

/** The attestation cycle a snapshot reports on, and its completion among active models. */
export interface KpiAttestation {
  /** The latest cycle opened on or before asOf; null when there is none. */
  cycle: { name: string; opensOn: IsoDate; closesOn: IsoDate } | null;
  /** Active models of the scope with a record in the cycle. */
  total: number;
  /** Of those, the records in status 'attested'. */
  attested: number;
  /** attested / total in percent, rounded half up to 2 decimals; 0 when total is 0. */
  completionPct: number;
}

/** The stored payload of one KPI snapshot (the body of `GET /v1/kpi`). */
export interface KpiSnapshot {
  scope: { region: string | null; team: string | null };
  asOf: IsoDate;
  computedAt: string;
  activeModels: number;
  byStatus: Record<RevalidationStatus, number>;
  byBucket: Record<ComplianceBucket, number>;
  /** byBucket.compliant / activeModels in percent, rounded half up to 2 decimals; 0 when no models. */
  pctCompliant: number;
  health: Record<HealthCount, number>;
  attestation: KpiAttestation;
}

/** A stored snapshot row; `payload` is the JSON text of a KpiSnapshot, to be sent as it is. */
export interface StoredKpiSnapshot {
  key: string;
  payload: string;
  computedAt: string;
  version: number;
}

export interface RebuildKpiOptions {
  /** The date statuses are computed as of; default today (UTC) at `now`. */
  asOf?: IsoDate;
  /** The instant stamped as computedAt; default the current time. */
  now?: Date;
  /** Checked before the reads and again before the write transaction (a cancelled job stops there). */
  signal?: AbortSignal;
}

export interface RebuildKpiResult {
  asOf: IsoDate;
  computedAt: string;
  version: number;
  snapshots: number;
  activeModels: number;
}

export interface ModelStatus {
  modelId: number;
  status: RevalidationStatus;
}

type Row = Record<string, unknown>;

function requireDate(asOf: IsoDate): IsoDate {
  if (!isIsoDate(asOf))
    throw new RangeError(`asOf must be a date as YYYY-MM-DD, got ${JSON.stringify(asOf)}`);
  return asOf;
}

/** The snapshot key of a scope: `kpi:global`, `kpi:region:EU`, `kpi:team:T01`, `kpi:region:EU:team:T01`. */
export function kpiSnapshotKey(scope: KpiScope = {}): string {
  const { region, team } = scope;
  if (region == null && team == null) return 'kpi:global';
  if (team == null) return `kpi:region:${region}`;
  if (region == null) return `kpi:team:${team}`;
  return `kpi:region:${region}:team:${team}`;
}

/**
 * Every active model's §2.1 status on `asOf`, ordered by model id, in one query. The rebuild
 * counts the same statuses in the database; this list is for tests and diagnostics.
 */
export async function computeModelStatuses(db: Db, asOf: IsoDate): Promise<ModelStatus[]> {
  const rows = await queryDialect(db.knex, db, MODEL_STATUSES, [requireDate(asOf)]);
  return rows.map((row) => ({ modelId: Number(row.model_id), status: row.status as RevalidationStatus }));
}

/** Half up to 2 decimals, from integers: 1 of 8 is 12.5, 1 of 3 is 33.33, 2 of 3 is 66.67. */
function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part * 10_000) / whole) / 100;
}

function payloadOf(
  row: Row | undefined,
  scope: KpiSnapshot['scope'],
  asOf: IsoDate,
  computedAt: string,
  cycle: KpiAttestation['cycle'],
): KpiSnapshot {
  const count = (column: string): number => (row === undefined ? 0 : Number(row[column]));
  const byStatus = Object.fromEntries(REVALIDATION_STATUSES.map((s) => [s, count(`status_${s}`)])) as Record<
    RevalidationStatus,
    number
  >;
  const byBucket = Object.fromEntries(COMPLIANCE_BUCKETS.map((b) => [b, 0])) as Record<
    ComplianceBucket,
    number
  >;
  for (const s of REVALIDATION_STATUSES) byBucket[bucketOf(s)] += byStatus[s];
  const activeModels = count('active_models');
  const total = count('attestation_total');
  const attested = count('attestation_attested');
  return {
    scope,
    asOf,
    computedAt,
    activeModels,
    byStatus,
    byBucket,
    pctCompliant: percent(byBucket.compliant, activeModels),
    health: Object.fromEntries(HEALTH_STATUSES.map((h) => [h, count(`health_${h}`)])) as Record<
      HealthCount,
      number
    >,
    attestation: { cycle, total, attested, completionPct: percent(attested, total) },
  };
}

/**
 * Every scope that gets a snapshot, by key, with its counters row (none: no active model):
 * the whole inventory, every region, every team, each team with its home region, and every
 * other (region, team) pair that holds an active model.
 */
function snapshotScopes(
  scopeRows: Row[],
  countRows: Row[],
): Map<string, { scope: KpiSnapshot['scope']; row?: Row }> {
  const regionCode = new Map<number, string>();
  const teamCode = new Map<number, string>();
  const homeRegion = new Map<number, number>();
  for (const s of scopeRows) {
    if (s.kind === 'region') regionCode.set(Number(s.id), String(s.code));
    else {
      teamCode.set(Number(s.id), String(s.code));
      homeRegion.set(Number(s.id), Number(s.region_id));
    }
  }
  const found = new Map<string, { scope: KpiSnapshot['scope']; row?: Row }>();
  const add = (scope: KpiSnapshot['scope'], row?: Row) => {
    const key = kpiSnapshotKey(scope);
    found.set(key, { scope, row: row ?? found.get(key)?.row });
  };
  add({ region: null, team: null });
  for (const region of regionCode.values()) add({ region, team: null });
  for (const [id, team] of teamCode) {
    add({ region: null, team });
    add({ region: regionCode.get(homeRegion.get(id)!)!, team });
  }
  for (const row of countRows) {
    const region = row.region_id == null ? null : regionCode.get(Number(row.region_id))!;
    const team = row.team_id == null ? null : teamCode.get(Number(row.team_id))!;
    add({ region, team }, row);
  }
  return found;
}

/**
 * Recomputes every KPI snapshot as of `asOf` and replaces the stored set in one transaction:
 * the whole inventory, every region, every team, and every (region, team) pair that is a
 * team's home region or holds an active model; the attestation cycle counts are replaced in
 * the same transaction. The number of statements is the same whatever the size of the
 * inventory.
 */
export async function rebuildKpiSnapshots(
  db: Db,
  options: RebuildKpiOptions = {},
): Promise<RebuildKpiResult> {
  const now = options.now ?? new Date();
  const asOf = requireDate(options.asOf ?? todayUtc(now));
  const computedAt = now.toISOString();
  options.signal?.throwIfAborted();

  // The reads share one snapshot, so the cycle, the counts and the scopes agree.
  const { cycleRow, counts, scopes, cycleCounts } = await db.knex.transaction(
    async (trx) => {
      if (db.dialect === 'postgres') await trx.raw(SERIAL_PLAN_POSTGRES);
      const [cycleRow] = await queryDialect(trx, db, LATEST_ATTESTATION_CYCLE, [asOf]);
      const counts = await queryDialect(trx, db, KPI_SCOPE_COUNTS, [asOf, cycleRow?.id ?? null]);
      const scopes = await queryDialect(trx, db, KPI_SCOPES, []);
      const cycleCounts = await countAttestationCycles(trx, db);
      return { cycleRow, counts, scopes, cycleCounts };
    },
    db.dialect === 'postgres' ? { isolationLevel: 'repeatable read', readOnly: true } : undefined,
  );
  const cycle =
    cycleRow === undefined
      ? null
      : {
          name: String(cycleRow.name),
          opensOn: String(cycleRow.opens_on),
          closesOn: String(cycleRow.closes_on),
        };

  const snapshots = [...snapshotScopes(scopes, counts)].map(([key, { scope, row }]) => ({
    key,
    payload: payloadOf(row, scope, asOf, computedAt, cycle),
  }));
  options.signal?.throwIfAborted();
  const version = await db.knex.transaction(async (trx) => {
    // Its row lock also serialises concurrent rebuilds on PostgreSQL.
    const next = await bumpCacheVersion(trx, db.dialect, KPI_CACHE_FAMILY, computedAt);
    await queryDialect(trx, db, DELETE_KPI_SNAPSHOTS, []);
    await queryDialect(trx, db, INSERT_KPI_SNAPSHOTS, [computedAt, next, JSON.stringify(snapshots)]);
    await writeAttestationCycleCounts(trx, db, cycleCounts, computedAt, next);
    return next;
  });
  return {
    asOf,
    computedAt,
    version,
    snapshots: snapshots.length,
    activeModels: snapshots.find((s) => s.key === kpiSnapshotKey())!.payload.activeModels,
  };
}

/**
 * The stored snapshot of a scope (none given: the whole inventory), or null when there is none
 * (no rebuild yet, an unknown code, or a region and team that share no active model).
 */
export async function readKpiSnapshot(db: Db, scope: KpiScope = {}): Promise<StoredKpiSnapshot | null> {
  const [row] = await queryDialect(db.knex, db, READ_KPI_SNAPSHOT, [kpiSnapshotKey(scope)]);
  if (row === undefined) return null;
  return {
    key: String(row.key),
    payload: String(row.payload),
    computedAt: String(row.computed_at),
    version: Number(row.version),
  };
}
