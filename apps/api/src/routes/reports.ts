// GET /v1/reports/regional-compliance — the regional compliance report (DESIGN §2.2) as the last
// rebuild.compliance stored it, from the read cache; 503 with Retry-After before the first one.
import { Router } from 'express';
import { z } from 'zod';
import { type GuardDeps, requireScope } from '../auth.ts';
import { sendCached } from '../http-cache.ts';
import { type ApiReadCache, snapshotPending } from '../read-cache.ts';
import { defineRoute } from '../routing.ts';
import { parseQuery } from '../validation.ts';

export interface ReportsRouterDeps extends GuardDeps {
  reads: ApiReadCache;
}

const figures = {
  required: z.int().describe('Validations with at least one approval of the region.'),
  approved: z.int(),
  pending: z.int(),
  rejected: z.int(),
  approvalRate: z.number().nullable().describe('approved / (approved + rejected); null when none decided.'),
  avgLagDays: z.number().nullable().describe('Mean days from validation approval to the regional decision.'),
  maxLagDays: z.number().nullable(),
};

export const complianceReportView = z.object({
  computedAt: z.string(),
  version: z.int(),
  regions: z.array(z.object({ region: z.string(), regionName: z.string(), ...figures })),
  totals: z.object(figures),
});

/** Built once: a zod schema is costly to construct, and this route takes no parameters. */
const NO_PARAMETERS = z.strictObject({});

export function reportsRouter(deps: ReportsRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/reports/regional-compliance', {
    get: [
      requireScope(deps, 'read'),
      async (req, res) => {
        parseQuery(NO_PARAMETERS, req);
        const read = await deps.reads.compliance();
        if (read.state === 'pending')
          throw snapshotPending('regional compliance report', 'rebuild.compliance');
        sendCached(req, res, read, deps.reads.maxAgeSeconds('compliance'));
      },
    ],
  });
  return router;
}
