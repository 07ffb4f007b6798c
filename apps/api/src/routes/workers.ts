// GET /v1/workers — the live worker processes (admin: hosts and pids are operators' business).
import { type Db, listLiveWorkers } from '@offload/db';
import { Router } from 'express';
import { type GuardDeps, requireScope } from '../auth.ts';
import { defineRoute } from '../routing.ts';

export interface WorkersRouterDeps extends GuardDeps {
  db: Db;
}

export function workersRouter(deps: WorkersRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/workers', {
    get: [
      requireScope(deps, 'admin'),
      async (_req, res) => {
        res.json({ items: await listLiveWorkers(deps.db) });
      },
    ],
  });
  return router;
}
