// GET /v1/attestation-cycles?cursor&limit — attestation cycles with their record counts, newest
// first (as the last KPI rebuild counted them, keyset-paginated), through the read cache.
import { Router } from 'express';
import { z } from 'zod';
import { type GuardDeps, requireScope } from '../auth.ts';
import { sendCached } from '../http-cache.ts';
import type { ApiReadCache } from '../read-cache.ts';
import { defineRoute } from '../routing.ts';
import { pageQuery } from '../schemas.ts';
import { parseQuery } from '../validation.ts';

export interface AttestationCyclesRouterDeps extends GuardDeps {
  reads: ApiReadCache;
}

export const attestationCyclesQuery = z.strictObject(pageQuery);

export const attestationCycleView = z.object({
  id: z.int(),
  name: z.string(),
  opensOn: z.string(),
  closesOn: z.string(),
  total: z.int(),
  attested: z.int(),
  pending: z.int(),
  exception: z.int(),
  completionPct: z.number(),
});

export const attestationCyclePage = z.object({
  items: z.array(attestationCycleView),
  nextCursor: z.string().nullable(),
});

export function attestationCyclesRouter(deps: AttestationCyclesRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/attestation-cycles', {
    get: [
      requireScope(deps, 'read'),
      async (req, res) => {
        const query = parseQuery(attestationCyclesQuery, req);
        const read = await deps.reads.attestationCycles({
          cursor: query.cursor === undefined || query.cursor === '' ? null : query.cursor,
          limit: query.limit ?? 50,
        });
        sendCached(req, res, read, deps.reads.maxAgeSeconds('attestations'));
      },
    ],
  });
  return router;
}
