// GET /v1/cache/stats — per cache family: TTL, version, hits, misses, hit rate, keys, loads,
// invalidations, and how this process hears of rebuilds (LISTEN or version checks). Read
// scope: it shows counters, no data. Counters are this process's own.
// POST /v1/cache/invalidate { family? } — admin: moves the family's version (every family's
// without one) in the database, so every API process drops it: at once on PostgreSQL
// (NOTIFY), within CACHE_VERSION_CHECK_MS on SQLite.
import { UnknownCacheFamilyError } from '@offload/cache';
import { Router } from 'express';
import { z } from 'zod';
import { type GuardDeps, requireScope } from '../auth.ts';
import { validationProblem } from '../problem.ts';
import { type ApiReadCache, READ_FAMILIES } from '../read-cache.ts';
import { defineRoute } from '../routing.ts';
import { parseBody } from '../validation.ts';

export interface CacheRouterDeps extends GuardDeps {
  reads: ApiReadCache;
}

export const invalidateCacheBody = z.strictObject({
  family: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe(`One of ${READ_FAMILIES.join(', ')}; none = every family.`),
});

export const cacheStatsView = z.object({
  invalidation: z.enum(['listen', 'poll', 'off']),
  versionCheckMs: z.int(),
  listenerReconnects: z.int(),
  families: z.array(
    z.object({
      family: z.string(),
      ttlSeconds: z.int(),
      version: z.int(),
      hits: z.int(),
      misses: z.int(),
      stale: z.int().describe('Of the misses, those of a key whose entry a version change dropped.'),
      hitRate: z.number().nullable(),
      keys: z.int(),
      loads: z.int(),
      loadErrors: z.int(),
      invalidations: z.int(),
    }),
  ),
});

export const invalidatedView = z.object({
  versions: z.record(z.string(), z.int()).describe('Each invalidated family and its new version.'),
});

export function cacheRouter(deps: CacheRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/cache/stats', {
    get: [
      requireScope(deps, 'read'),
      (_req, res) => {
        res.json(deps.reads.stats());
      },
    ],
  });
  defineRoute(router, '/v1/cache/invalidate', {
    post: [
      requireScope(deps, 'admin'),
      async (req, res) => {
        // No body at all means every family.
        const empty =
          req.body === undefined &&
          Number(req.get('content-length') ?? 0) === 0 &&
          req.get('transfer-encoding') === undefined;
        const body = empty ? {} : parseBody(invalidateCacheBody, req);
        try {
          res.json({ versions: await deps.reads.invalidate(body.family) });
        } catch (error) {
          if (error instanceof UnknownCacheFamilyError) {
            throw validationProblem(422, [{ pointer: '#/family', detail: error.message }]);
          }
          throw error;
        }
      },
    ],
  });
  return router;
}
