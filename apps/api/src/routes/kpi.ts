// GET /v1/kpi?region=CODE&team=CODE — the KPI snapshot of a scope (DESIGN §2.2), from the read
// cache. No codes: the whole inventory. An unknown code is a 404 naming the parameter; before
// the first KPI rebuild there is nothing to serve, which is a 503 with Retry-After (the state
// is temporary and a rebuild fixes it), distinct from the 404 of a scope that will never exist.
import { COMPLIANCE_BUCKETS, REVALIDATION_STATUSES } from '@offload/domain';
import { Router } from 'express';
import { z } from 'zod';
import { type GuardDeps, requireScope } from '../auth.ts';
import type { FastRead } from '../fast-reads.ts';
import { sendCached } from '../http-cache.ts';
import { HttpProblem } from '../problem.ts';
import { type ApiReadCache, snapshotPending } from '../read-cache.ts';
import { defineRoute } from '../routing.ts';
import { parseQuery } from '../validation.ts';

export interface KpiRouterDeps extends GuardDeps {
  reads: ApiReadCache;
}

const code = z.string().min(1).max(100);

export const kpiQuery = z.strictObject({
  region: code.optional().describe('A region code; none = every region.'),
  team: code.optional().describe('A team code; none = every team.'),
});

const counts = <K extends string>(keys: readonly K[]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.int()])) as Record<K, z.ZodInt>);

export const kpiView = z.object({
  scope: z.object({ region: z.string().nullable(), team: z.string().nullable() }),
  asOf: z.string().describe('YYYY-MM-DD'),
  computedAt: z.string(),
  activeModels: z.int(),
  byStatus: counts(REVALIDATION_STATUSES),
  byBucket: counts(COMPLIANCE_BUCKETS),
  pctCompliant: z.number(),
  health: counts(['ok', 'warn', 'alert', 'unknown'] as const),
  attestation: z.object({
    cycle: z.object({ name: z.string(), opensOn: z.string(), closesOn: z.string() }).nullable(),
    total: z.int(),
    attested: z.int(),
    completionPct: z.number(),
  }),
});

const scopeOf = (query: z.output<typeof kpiQuery>) => ({
  region: query.region ?? null,
  team: query.team ?? null,
});

/** The short path (fast-reads.ts) of a found snapshot. */
export const kpiFastRead: FastRead<typeof kpiQuery> = {
  path: '/v1/kpi',
  family: 'kpi',
  query: kpiQuery,
  peek: (reads, query) => reads.peekKpi(scopeOf(query)),
};

export function kpiRouter(deps: KpiRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/kpi', {
    get: [
      requireScope(deps, 'read'),
      async (req, res) => {
        const query = parseQuery(kpiQuery, req);
        const { region, team } = query;
        const read = await deps.reads.kpi(scopeOf(query));
        switch (read.state) {
          case 'found':
            sendCached(req, res, read, deps.reads.maxAgeSeconds('kpi'));
            return;
          case 'pending':
            throw snapshotPending('KPI snapshot', 'rebuild.kpi');
          case 'unknown':
            throw new HttpProblem(404, `No ${read.field} has the code ${JSON.stringify(read.code)}.`, {
              title: `Unknown ${read.field}`,
              errors: [{ parameter: read.field, detail: `unknown ${read.field} code` }],
            });
          case 'no-scope':
            throw new HttpProblem(
              404,
              `Team ${JSON.stringify(team)} has no active model in region ${JSON.stringify(region)}, so there is no KPI snapshot for the pair.`,
              { title: 'No KPI snapshot for this scope' },
            );
        }
      },
    ],
  });
  return router;
}
