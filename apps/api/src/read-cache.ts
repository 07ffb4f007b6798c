// The API's precomputed reads, served through the two-tier cache (@offload/cache). This module
// names the cache families and gives each its loader; the routes only shape HTTP.
//
//   family        holds                                    moved by
//   kpi           KPI snapshots by scope                   rebuild.kpi (worker), POST /v1/cache/invalidate
//   compliance    the regional compliance report           rebuild.compliance
//   health        model health (in model details)          analyze.health
//   attestations  attestation cycle pages (precomputed)    dropped with kpi, whose rebuild writes them
//   models        model list pages and model details       its TTL; dropped with kpi and health
//   dashboard     the composed home numbers                dropped with any family it shows
//
// Bodies are kept as the encoded JSON they are sent as, so a hit costs no serialization. Negative
// answers (no snapshot yet, an unknown code) are cached too: the rebuild that changes them
// moves the family's version. `models` follows imports through the KPI rebuild they trigger.
import { ReadCache, type ReadCacheStats } from '@offload/cache';
import { type Db, inventory, type Page, queryRows } from '@offload/db';
import {
  type AttestationCycleCounts,
  COMPLIANCE_CACHE_FAMILY,
  type ComplianceReport,
  KPI_CACHE_FAMILY,
  type KpiScope,
  type KpiSnapshot,
  kpiSnapshotKey,
  listAttestationCycleCounts,
  readComplianceReport,
  readKpiSnapshot,
} from '@offload/db/reports';
import type { Logger } from '@offload/observability';
import { entityTag } from './http-cache.ts';
import { HttpProblem } from './problem.ts';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

export const READ_FAMILIES = ['kpi', 'compliance', 'health', 'attestations', 'models', 'dashboard'] as const;
export type ReadFamily = (typeof READ_FAMILIES)[number];

export interface ReadCacheSettings {
  /** CACHE_TTL_SECONDS: the L1 TTL of every family without an override; 0 = no L1. */
  ttlSeconds: number;
  /** CACHE_TTL_<FAMILY>_SECONDS, by lower-case family. */
  ttlByFamily: Readonly<Record<string, number>>;
  /** CACHE_VERSION_CHECK_MS: version checks when there is no LISTEN (SQLite). */
  versionCheckMs: number;
  /** PostgreSQL: LISTEN for invalidations (default true). */
  listen: boolean;
}

export const DEFAULT_READ_CACHE_SETTINGS: ReadCacheSettings = {
  ttlSeconds: 30,
  ttlByFamily: {},
  versionCheckMs: 250,
  listen: true,
};

const DEPENDS_ON: Partial<Record<ReadFamily, readonly ReadFamily[]>> = {
  attestations: ['kpi'],
  models: ['kpi', 'health'],
  dashboard: ['kpi', 'compliance', 'attestations'],
};

/**
 * A read answered from a snapshot, as the UTF-8 JSON to send (encoded once, on load) with its
 * ETag (the family's version and a digest of the bytes, also taken once, on load).
 */
export interface Found {
  state: 'found';
  body: Buffer;
  etag: string;
}

export type KpiRead =
  | (Found & { snapshot: KpiSnapshot })
  | { state: 'unknown'; field: 'region' | 'team'; code: string }
  /** No rebuild has run yet. */
  | { state: 'pending' }
  /** Both codes exist, but that region and team share no snapshot (no active model together). */
  | { state: 'no-scope' };

export type ComplianceRead = (Found & { report: ComplianceReport }) | { state: 'pending' };

// kpi_scope_codes: whether a region code and a team code exist, and whether any snapshot does.
const KPI_SCOPE_CODES = `SELECT (SELECT count(*) FROM regions WHERE code = ?) AS region,
       (SELECT count(*) FROM teams WHERE code = ?) AS team,
       (SELECT count(*) FROM kpi_snapshots WHERE key = ?) AS snapshots`;

type Row = Record<string, unknown>;

export const SNAPSHOT_PENDING_PROBLEM = 'urn:offload:problem:snapshot-pending';
const SNAPSHOT_RETRY_AFTER_SECONDS = 30;

/**
 * 503 for a report no rebuild has produced yet: temporary (the rebuild job fixes it), so the
 * caller is told to retry, unlike the 404 of something that does not exist.
 */
export function snapshotPending(what: string, kind: string): HttpProblem {
  return new HttpProblem(503, `No ${what} has been computed yet; a ${kind} job computes it.`, {
    type: SNAPSHOT_PENDING_PROBLEM,
    title: 'Snapshot not computed yet',
    headers: { 'Retry-After': String(SNAPSHOT_RETRY_AFTER_SECONDS) },
    extensions: { rebuildKind: kind },
  });
}

const DASHBOARD_KEY = 'home';

const modelsKey = (params: inventory.ListModelsParams): string =>
  `list:${JSON.stringify([params.region, params.team, params.status, params.cursor, params.limit])}`;

const found = (read: { state: string } | undefined): Found | undefined =>
  read?.state === 'found' ? (read as Found) : undefined;

export class ApiReadCache {
  readonly cache: ReadCache;
  readonly #db: Db;
  readonly #started: Promise<void>;
  readonly #ttlSeconds: ReadonlyMap<ReadFamily, number>;

  constructor(db: Db, settings: ReadCacheSettings, logger: Logger) {
    this.#db = db;
    this.#ttlSeconds = new Map(
      READ_FAMILIES.map((name) => [name, settings.ttlByFamily[name] ?? settings.ttlSeconds]),
    );
    this.cache = new ReadCache({
      db,
      families: READ_FAMILIES.map((name) => ({
        name,
        ttlSeconds: this.#ttlSeconds.get(name)!,
        dependsOn: DEPENDS_ON[name] ?? [],
      })),
      versionCheckMs: settings.versionCheckMs,
      listen: settings.listen,
      onError: (error, context) => logger.warn({ err: error }, `read cache: ${context}`),
    });
    // Reads work before this settles (versions are then checked on first use).
    this.#started = this.cache.start().catch((error: unknown) => {
      logger.warn({ err: error }, 'read cache: start failed; versions will be checked on use');
    });
  }

  /** Resolves once the versions are read and, on PostgreSQL, the listener is up (or failed). */
  ready(): Promise<void> {
    return this.#started;
  }

  /** Stops listening at once (the stop is synchronous up to its first await), then waits for it. */
  async close(): Promise<void> {
    const closing = this.cache.close();
    await Promise.all([this.#started, closing]);
  }

  /** How long a client may keep a body of `family`: no longer than this process keeps it. */
  maxAgeSeconds(family: ReadFamily): number {
    return this.#ttlSeconds.get(family)!;
  }

  stats(): ReadCacheStats {
    return this.cache.stats();
  }

  invalidate(family?: string): Promise<Record<string, number>> {
    return this.cache.invalidate(family);
  }

  /**
   * The hot reads' short path (fast-reads.ts): the body when L1 holds it fresh and found, counted
   * as a hit, else undefined (the route's own path then reads through `kpi`, `dashboard`, `models`).
   */
  /** Counts the hit of a body `peek…` gave that the short path answered with. */
  countHit(family: ReadFamily): void {
    this.cache.countHit(family);
  }

  peekKpi(scope: KpiScope): Found | undefined {
    return found(this.cache.peek<KpiRead>(KPI_CACHE_FAMILY, kpiSnapshotKey(scope)));
  }

  peekDashboard(): Found | undefined {
    return found(this.cache.peek<Found>('dashboard', DASHBOARD_KEY));
  }

  peekModels(params: inventory.ListModelsParams): Found | undefined {
    return found(this.cache.peek<Found>('models', modelsKey(params)));
  }

  /** The KPI snapshot of a scope (by region and team codes; none = the whole inventory). */
  kpi(scope: KpiScope): Promise<KpiRead> {
    const key = kpiSnapshotKey(scope);
    return this.cache.get<KpiRead>(KPI_CACHE_FAMILY, key, async () => {
      const stored = await readKpiSnapshot(this.#db, scope);
      if (stored !== null) {
        const snapshot = JSON.parse(stored.payload) as KpiSnapshot;
        return { ...this.#found(KPI_CACHE_FAMILY, Buffer.from(stored.payload)), snapshot };
      }
      const [row] = await this.#rows(KPI_SCOPE_CODES, [
        scope.region ?? null,
        scope.team ?? null,
        kpiSnapshotKey(),
      ]);
      if (scope.region != null && Number(row?.region) === 0)
        return { state: 'unknown', field: 'region', code: scope.region };
      if (scope.team != null && Number(row?.team) === 0)
        return { state: 'unknown', field: 'team', code: scope.team };
      return Number(row?.snapshots) === 0 ? { state: 'pending' } : { state: 'no-scope' };
    });
  }

  compliance(): Promise<ComplianceRead> {
    return this.cache.get<ComplianceRead>(COMPLIANCE_CACHE_FAMILY, 'report', async () => {
      const report = await readComplianceReport(this.#db);
      return report === null
        ? { state: 'pending' }
        : { ...this.#found(COMPLIANCE_CACHE_FAMILY, json(report)), report };
    });
  }

  /** A page of attestation cycles, newest first; `limit` and `cursor` already validated by the route. */
  attestationCycles(page: {
    cursor: string | null;
    limit: number;
  }): Promise<Found & { page: Page<AttestationCycleCounts> }> {
    return this.cache.get('attestations', `${page.limit}:${page.cursor ?? ''}`, async () => {
      const result = await listAttestationCycleCounts(this.#db, {
        ...(page.cursor === null ? {} : { cursor: page.cursor }),
        limit: page.limit,
      });
      return { ...this.#found('attestations', json(result)), page: result };
    });
  }

  /**
   * The home page's numbers in one body: KPI headline, compliance totals, latest cycle, and the
   * health counts of the global KPI snapshot (all 0 before the first KPI rebuild).
   */
  dashboard(): Promise<Found> {
    return this.cache.get('dashboard', DASHBOARD_KEY, async () => {
      const [kpi, compliance, cycles] = await Promise.all([
        this.kpi({}),
        this.compliance(),
        this.attestationCycles({ cursor: null, limit: 1 }),
      ]);
      const snapshot = kpi.state === 'found' ? kpi.snapshot : null;
      const body = {
        kpi:
          snapshot === null
            ? null
            : {
                asOf: snapshot.asOf,
                computedAt: snapshot.computedAt,
                activeModels: snapshot.activeModels,
                byBucket: snapshot.byBucket,
                pctCompliant: snapshot.pctCompliant,
              },
        compliance:
          compliance.state === 'found'
            ? { computedAt: compliance.report.computedAt, totals: compliance.report.totals }
            : null,
        latestAttestationCycle: cycles.page.items[0] ?? null,
        health: snapshot?.health ?? { ok: 0, warn: 0, alert: 0, unknown: 0 },
      };
      return this.#found('dashboard', json(body));
    });
  }

  /** A page of models; UnknownCodeError (from @offload/db) names a region or team code that does not exist. */
  models(params: inventory.ListModelsParams): Promise<Found> {
    return this.cache.get('models', modelsKey(params), async () => {
      const page = await inventory.listModels(this.#db, params);
      return this.#found('models', json(page));
    });
  }

  /** A model with its validations, approvals and health; null when there is no such model. */
  model(id: number): Promise<Found | null> {
    return this.cache.get('models', `model:${id}`, async () => {
      const detail = await inventory.getModelDetail(this.#db, id);
      return detail === null ? null : this.#found('models', json(detail));
    });
  }

  #found(family: string, body: Buffer): Found {
    const version = this.cache.stats().families.find((stats) => stats.family === family)?.version ?? 0;
    return { state: 'found', body, etag: entityTag(version, body) };
  }

  #rows(sql: string, bindings: Array<string | number | null>): Promise<Row[]> {
    return queryRows<Row>(this.#db.knex, sql, bindings);
  }
}
