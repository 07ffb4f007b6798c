// GET /v1/dashboard — the home page in one call: the global KPI headline, the compliance
// totals, the latest attestation cycle and the health counts, composed from the read cache
// (each part null until its first rebuild).
import { Router } from 'express';
import { z } from 'zod';
import { type GuardDeps, requireScope } from '../auth.ts';
import type { FastRead } from '../fast-reads.ts';
import { sendCached } from '../http-cache.ts';
import type { ApiReadCache } from '../read-cache.ts';
import { defineRoute } from '../routing.ts';
import { parseQuery } from '../validation.ts';
import { attestationCycleView } from './attestation-cycles.ts';
import { kpiView } from './kpi.ts';
import { complianceReportView } from './reports.ts';

export interface DashboardRouterDeps extends GuardDeps {
  reads: ApiReadCache;
}

export const dashboardView = z.object({
  kpi: kpiView
    .pick({ asOf: true, computedAt: true, activeModels: true, byBucket: true, pctCompliant: true })
    .nullable()
    .describe('The whole inventory; null before the first KPI rebuild.'),
  compliance: complianceReportView
    .pick({ computedAt: true, totals: true })
    .nullable()
    .describe('null before the first compliance rebuild.'),
  latestAttestationCycle: attestationCycleView.nullable(),
  health: z.object({ ok: z.int(), warn: z.int(), alert: z.int(), unknown: z.int() }),
});

/** Built once: a zod schema is costly to construct, and this route takes no parameters. */
const NO_PARAMETERS = z.strictObject({});

/** The short path (fast-reads.ts) of a composed dashboard. */
export const dashboardFastRead: FastRead<typeof NO_PARAMETERS> = {
  path: '/v1/dashboard',
  family: 'dashboard',
  query: NO_PARAMETERS,
  peek: (reads) => reads.peekDashboard(),
};

export function dashboardRouter(deps: DashboardRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/dashboard', {
    get: [
      requireScope(deps, 'read'),
      async (req, res) => {
        parseQuery(NO_PARAMETERS, req);
        sendCached(req, res, await deps.reads.dashboard(), deps.reads.maxAgeSeconds('dashboard'));
      },
    ],
  });
  return router;
}
