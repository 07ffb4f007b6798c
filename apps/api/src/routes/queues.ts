// GET /v1/queues — per kind: depth, running, failed, oldest age and recent throughput, from the
// shared QueueStats snapshot (at most a second old; one counts query serves every poller).
import { Router } from 'express';
import { type GuardDeps, requireScope } from '../auth.ts';
import type { QueueStats } from '../queue-stats.ts';
import { defineRoute } from '../routing.ts';

export interface QueuesRouterDeps extends GuardDeps {
  queueStats: QueueStats;
}

export function queuesRouter(deps: QueuesRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/queues', {
    get: [
      requireScope(deps, 'read'),
      async (_req, res) => {
        const snapshot = await deps.queueStats.snapshot();
        res.json({ measuredAt: snapshot.measuredAt, items: snapshot.kinds });
      },
    ],
  });
  return router;
}
