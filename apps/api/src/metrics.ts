// The API's Prometheus metrics, on a registry of its own (so tests can build many apps). Names
// follow Prometheus conventions: base units, `_total` counters, bounded labels only (the
// matched route pattern, never the raw URL; kinds from the catalog; a handful of states).
//
// Queue and pool figures are gauges collected at scrape time: queue ones from the shared
// QueueStats snapshot (one counts query however often Prometheus and dashboards ask), pool
// ones from knex's tarn pool. The queue and database metrics are not API-specific; they move
// to @offload/observability when the worker needs the same ones.
import { cacheLookupCounts, type ReadCacheStats } from '@offload/cache';
import { type Db, onQuery } from '@offload/db';
import { JOB_STATES } from '@offload/queue';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueStats } from './queue-stats.ts';
import type { FinishedRequest } from './request-log.ts';

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export interface ApiMetricsOptions {
  db: Db;
  queueStats: QueueStats;
  /** The read cache whose lookups are counted (offload_cache_lookups_total). */
  cache?: { stats(): ReadCacheStats };
  /** Process metrics (CPU, memory, event loop, GC); off in tests that build many apps. */
  defaultMetrics?: boolean;
}

export interface ApiMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  requestFinished(info: FinishedRequest): void;
  rateLimited(): void;
  render(): Promise<string>;
  /** Detaches the database query hook. */
  close(): void;
}

/** knex's pool is a tarn pool; its counters are what the pool gauges report. */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

export function createApiMetrics(options: ApiMetricsOptions): ApiMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: 'offload_api_http_request_duration_seconds',
    help: 'HTTP request duration, by method, matched route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  const httpSeries = new Map<string, { observe(value: number): void }>();
  const rateLimited = new Counter({
    name: 'offload_api_rate_limited_requests_total',
    help: 'Requests refused with 429 because their API key was over its rate limit.',
    registers,
  });

  const queryDuration = new Histogram({
    name: 'offload_db_query_duration_seconds',
    help: 'Database query duration, every query of this process.',
    buckets: QUERY_BUCKETS,
    registers,
  });
  const detachQueries = onQuery((ms) => queryDuration.observe(ms / 1000));

  new Gauge({
    name: 'offload_db_pool_connections',
    help: 'Database pool connections, by state (in_use, idle).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const live = currentPool(options.db);
      this.set({ state: 'in_use' }, live?.numUsed() ?? 0);
      this.set({ state: 'idle' }, live?.numFree() ?? 0);
    },
  });
  new Gauge({
    name: 'offload_db_pool_pending_acquires',
    help: 'Requests waiting for a database pool connection.',
    registers,
    collect() {
      const live = currentPool(options.db);
      this.set((live?.numPendingAcquires() ?? 0) + (live?.numPendingCreates() ?? 0));
    },
  });

  // The cache counts its lookups itself; the counter reports its totals at scrape time. The hit
  // ratio per family is hit / (hit + miss + stale) over a window (ops/prometheus/rules.yml).
  const cache = options.cache;
  if (cache !== undefined) {
    new Counter({
      name: 'offload_cache_lookups_total',
      help: 'Read cache lookups, by family and result: hit (fresh entry), stale (entry of an older version, reloaded), miss (no entry).',
      labelNames: ['family', 'result'] as const,
      registers,
      collect() {
        this.reset();
        for (const { family, result, count } of cacheLookupCounts(cache.stats()))
          this.inc({ family, result }, count);
      },
    });
  }

  // The three queue gauges read one QueueStats snapshot: it is shared while in flight and
  // cached for a second, so a scrape costs one counts query. A failed read leaves them empty.
  const queueSnapshot = () => options.queueStats.snapshot().catch(() => undefined);
  new Gauge({
    name: 'offload_queue_depth',
    help: 'Jobs waiting to run (queued and retrying), by kind.',
    labelNames: ['kind'] as const,
    registers,
    async collect() {
      const snapshot = await queueSnapshot();
      this.reset();
      for (const stats of snapshot?.kinds ?? []) this.set({ kind: stats.kind }, stats.depth);
    },
  });
  new Gauge({
    name: 'offload_queue_oldest_job_age_seconds',
    help: 'Age of the oldest job ready to run, by kind (0 when none waits).',
    labelNames: ['kind'] as const,
    registers,
    async collect() {
      const snapshot = await queueSnapshot();
      this.reset();
      for (const stats of snapshot?.kinds ?? []) this.set({ kind: stats.kind }, stats.oldestAgeSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'offload_queue_jobs',
    help: 'Retained jobs, by kind and state.',
    labelNames: ['kind', 'state'] as const,
    registers,
    async collect() {
      const snapshot = await queueSnapshot();
      this.reset();
      for (const stats of snapshot?.kinds ?? []) {
        const byState: Record<(typeof JOB_STATES)[number], number> = {
          queued: stats.queued,
          retrying: stats.retrying,
          active: stats.running,
          completed: stats.completed,
          failed: stats.failed,
          cancelled: stats.cancelled,
        };
        for (const state of JOB_STATES) this.set({ kind: stats.kind, state }, byState[state]);
      }
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    requestFinished({ method, route, status, durationSeconds }) {
      // The labelled series looked up once per method, route and status: prom-client hashes
      // the label set at every observe otherwise. Bounded like the labels themselves.
      const key = `${method} ${route} ${status}`;
      let series = httpSeries.get(key);
      if (series === undefined) {
        series = httpDuration.labels({ method, route, status_code: String(status) });
        httpSeries.set(key, series);
      }
      series.observe(durationSeconds);
    },
    rateLimited() {
      rateLimited.inc();
    },
    render() {
      return registry.metrics();
    },
    close() {
      detachQueries();
    },
  };
}

function currentPool(db: Db): TarnPool | undefined {
  return (db.knex.client as { pool?: TarnPool }).pool;
}

/** Pool use for /v1/health. */
export function poolUsage(db: Db): { inUse: number; idle: number; pending: number; max: number | null } {
  const pool = currentPool(db) as (TarnPool & { max?: number }) | undefined;
  return {
    inUse: pool?.numUsed() ?? 0,
    idle: pool?.numFree() ?? 0,
    pending: (pool?.numPendingAcquires() ?? 0) + (pool?.numPendingCreates() ?? 0),
    max: typeof pool?.max === 'number' ? pool.max : null,
  };
}
