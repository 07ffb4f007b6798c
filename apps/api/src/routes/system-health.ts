// GET /v1/health (admin; also /health-detailed) — what an operator checks first: database latency
// and pool use, queue depth and lag per kind, version, uptime. Unlike /readyz it reports a
// dependency that is down instead of failing: status says `degraded` and the failing part says why.
// GET /stats (read) — this API process at a glance: request rate and latency percentiles per
// route over the last minute, the read cache's hit ratio, a queue summary, memory.
import type { Db } from '@offload/db';
import { type Response, Router } from 'express';
import { type GuardDeps, requireScope } from '../auth.ts';
import { poolUsage } from '../metrics.ts';
import type { QueueStats } from '../queue-stats.ts';
import type { ApiReadCache } from '../read-cache.ts';
import { type RequestStats, STATS_WINDOW_SECONDS } from '../request-stats.ts';
import { defineRoute } from '../routing.ts';

export interface SystemHealthRouterDeps extends GuardDeps {
  db: Db;
  queueStats: QueueStats;
  version: string;
  startedAt: number;
  reads: ApiReadCache;
  requestStats: RequestStats;
}

const PROBE_TIMEOUT_MS = 2000;

export function systemHealthRouter(deps: SystemHealthRouterDeps): Router {
  const router = Router();
  const detailed = [
    requireScope(deps, 'admin'),
    async (_req: unknown, res: Response) => {
      const [database, queues] = await Promise.all([probeDatabase(deps.db), probeQueues(deps.queueStats)]);
      res.json({
        status: database.ok && queues.error === undefined ? 'ok' : 'degraded',
        version: deps.version,
        uptimeSeconds: uptimeSeconds(deps.startedAt),
        database: { dialect: deps.db.dialect, ...database, pool: poolUsage(deps.db) },
        queues: queues.items,
        ...(queues.error === undefined ? {} : { queueError: queues.error }),
      });
    },
  ] as const;
  defineRoute(router, '/v1/health', { get: [...detailed] });
  defineRoute(router, '/health-detailed', { get: [...detailed] });

  defineRoute(router, '/stats', {
    get: [
      requireScope(deps, 'read'),
      async (_req, res) => {
        const snapshot = await deps.queueStats.snapshot();
        let hits = 0;
        let misses = 0;
        for (const family of deps.reads.stats().families) {
          hits += family.hits;
          misses += family.misses;
        }
        const memory = process.memoryUsage();
        res.json({
          measuredAt: new Date().toISOString(),
          uptimeSeconds: uptimeSeconds(deps.startedAt),
          windowSeconds: STATS_WINDOW_SECONDS,
          routes: deps.requestStats.snapshot(),
          cache: {
            hits,
            misses,
            hitRatio: hits + misses === 0 ? null : Math.round((hits / (hits + misses)) * 1000) / 1000,
          },
          queues: {
            depth: sum(snapshot.kinds.map((kind) => kind.depth)),
            running: sum(snapshot.kinds.map((kind) => kind.running)),
            failed: sum(snapshot.kinds.map((kind) => kind.failed)),
            oldestAgeSeconds: snapshot.kinds.reduce<number | null>(
              (oldest, kind) =>
                kind.oldestAgeSeconds === null ? oldest : Math.max(oldest ?? 0, kind.oldestAgeSeconds),
              null,
            ),
          },
          memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal },
        });
      },
    ],
  });
  return router;
}

function uptimeSeconds(startedAt: number): number {
  return Math.round((Date.now() - startedAt) / 100) / 10;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

async function probeDatabase(db: Db): Promise<{ ok: boolean; latencyMs: number | null; error?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.knex.raw('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)),
          PROBE_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    return { ok: false, latencyMs: null, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

async function probeQueues(queueStats: QueueStats) {
  try {
    const snapshot = await queueStats.snapshot();
    return {
      items: snapshot.kinds.map((stats) => ({
        kind: stats.kind,
        depth: stats.depth,
        running: stats.running,
        lagSeconds: stats.oldestAgeSeconds,
      })),
    };
  } catch (error) {
    return { items: [], error: error instanceof Error ? error.message : String(error) };
  }
}
