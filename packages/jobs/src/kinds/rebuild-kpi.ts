// rebuild.kpi: recomputes every KPI snapshot (DESIGN §2.2) as of a calendar date in set-based
// SQL and replaces the stored set, bumping the 'kpi' cache family. Sent by cron, on demand, and
// debounced after imports and analyses (triggers.ts).
import { z } from 'zod';
import { defineJobKind } from '../kind.ts';

const payload = z
  .strictObject({
    asOf: z.iso
      .date()
      .optional()
      .describe('The date statuses are computed as of, YYYY-MM-DD; default today (UTC) when the job runs.'),
  })
  .describe('rebuild.kpi payload');

export type RebuildKpiPayload = z.output<typeof payload>;

const result = z
  .object({
    asOf: z.iso.date(),
    version: z.number().int().describe("The 'kpi' cache family's version the snapshots landed with."),
    snapshots: z.number().int().describe('Snapshots written (global, regions, teams, region-team pairs).'),
    activeModels: z.number().int(),
    durationMs: z.number(),
  })
  .describe('rebuild.kpi result');

export const rebuildKpi = defineJobKind({
  name: 'rebuild.kpi',
  description:
    'Recomputes every KPI snapshot as of asOf (default today, UTC) and replaces the stored set; readers see the new version at once.',
  payload,
  result,
  cpuBound: false,
  // Rewrites every snapshot of the whole inventory.
  startScope: 'admin',
  // A rebuild reads the whole inventory: give it a long lease (heartbeats keep it alive anyway).
  defaults: { maxAttempts: 3, backoff: { baseMs: 5_000, maxMs: 120_000 }, leaseSeconds: 120 },
});
