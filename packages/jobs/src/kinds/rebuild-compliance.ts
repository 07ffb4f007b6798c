// rebuild.compliance: recomputes the regional compliance report (DESIGN §2.2: per region, the
// validations needing its approval, their decisions and the lag to them) and stores it in
// report_snapshots, bumping the 'compliance' cache family. Sent by cron and on demand.
import { z } from 'zod';
import { defineJobKind } from '../kind.ts';

const payload = z.strictObject({}).describe('rebuild.compliance payload: none');

export type RebuildCompliancePayload = z.output<typeof payload>;

const result = z
  .object({
    version: z.number().int().describe("The 'compliance' cache family's version the report landed with."),
    regions: z.number().int().describe('Regions in the report.'),
    computedAt: z.string(),
    durationMs: z.number(),
  })
  .describe('rebuild.compliance result');

export const rebuildCompliance = defineJobKind({
  name: 'rebuild.compliance',
  description: 'Recomputes the regional compliance report (approvals, decisions and lags per region).',
  payload,
  result,
  cpuBound: false,
  // Rewrites the whole compliance report.
  startScope: 'admin',
  defaults: { maxAttempts: 3, backoff: { baseMs: 5_000, maxMs: 120_000 }, leaseSeconds: 120 },
});
