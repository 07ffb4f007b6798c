// GET /v1/health (admin) — what an operator checks first: database latency and pool use, queue
// depth and lag per kind, version, uptime. Unlike /readyz it reports a dependency that is down
// instead of failing: status says `degraded` and the failing part says why.
import type { Db } from '@offload/db';
import { Router } from 'express';
import { type GuardDeps, requireScope } from '../auth.ts';
import { poolUsage } from '../metrics.ts';
import type { QueueStats } from '../queue-stats.ts';
import { defineRoute } from '../routing.ts';

export interface SystemHealthRouterDeps extends GuardDeps {
  db: Db;
  queueStats: QueueStats;
  version: string;
  startedAt: number;
}

const PROBE_TIMEOUT_MS = 2000;

export function systemHealthRouter(deps: SystemHealthRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/health', {
    get: [
      requireScope(deps, 'admin'),
      async (_req, res) => {
        const [database, queues] = await Promise.all([probeDatabase(deps.db), probeQueues(deps.queueStats)]);
        res.json({
          status: database.ok && queues.error === undefined ? 'ok' : 'degraded',
          version: deps.version,
          uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 100) / 10,
          database: { dialect: deps.db.dialect, ...database, pool: poolUsage(deps.db) },
          queues: queues.items,
          ...(queues.error === undefined ? {} : { queueError: queues.error }),
        });
      },
    ],
  });
  return router;
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
