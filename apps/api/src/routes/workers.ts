// GET /v1/workers?cursor&limit — the live worker processes, by id in pages (admin: hosts and pids are operators' business).
import { type CursorSigner, type Db, listLiveWorkers } from '@offload/db';
import { Router } from 'express';
import { type GuardDeps, requireScope } from '../auth.ts';
import { pageInMemory } from '../list-page.ts';
import { defineRoute } from '../routing.ts';
import { pageOnlyQuery } from '../schemas.ts';
import { parseQuery } from '../validation.ts';

export interface WorkersRouterDeps extends GuardDeps {
  db: Db;
  cursorSigner: CursorSigner;
}

export function workersRouter(deps: WorkersRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/workers', {
    get: [
      requireScope(deps, 'admin'),
      async (req, res) => {
        const query = parseQuery(pageOnlyQuery, req);
        // The live workers are a few rows of the registry: read whole, cut here.
        res.json(
          pageInMemory(await listLiveWorkers(deps.db), (worker) => worker.id, query, {
            cursorSigner: deps.cursorSigner,
            scope: 'workers',
          }),
        );
      },
    ],
  });
  return router;
}
