// analyze.health: recomputes model health (DESIGN.md §3) from the metric series — per model and
// metric, the population stability index between a baseline and a recent window and the z-score
// of the latest point — and lands the statuses in `model_health`. Without `modelIds` it analyses
// every active model; `asOf` moves the end of the recent window (default: now).
import { z } from 'zod';
import { defineJobKind, rowId } from '../kind.ts';

/** The most model ids one payload names (past it, triggers ask for every active model). */
export const ANALYZE_HEALTH_MAX_MODEL_IDS = 10_000;

const payload = z
  .strictObject({
    modelIds: z
      .array(rowId())
      .min(1)
      .max(ANALYZE_HEALTH_MAX_MODEL_IDS)
      .optional()
      .describe('Analyse only these models (active ones); default every active model.'),
    asOf: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('The instant the recent window ends at (ISO-8601); default the time the job runs.'),
  })
  .describe('analyze.health payload');

export type AnalyzeHealthPayload = z.output<typeof payload>;

const result = z
  .object({
    models: z.int().describe('Active models analysed.'),
    ok: z.int(),
    warn: z.int(),
    alert: z.int(),
    unknown: z.int().describe('Models without enough data in the windows; their health row is removed.'),
    batches: z.int(),
    version: z.int().describe("The 'health' cache family version the run landed under."),
    kpiRebuildJobId: z.string().nullable().describe('The debounced rebuild.kpi the run requested.'),
  })
  .describe('analyze.health result');

export const analyzeHealth = defineJobKind({
  name: 'analyze.health',
  description:
    'Per active model and metric: PSI between a baseline and a recent window and the z-score of the latest point; writes ok/warn/alert into model_health, then requests a KPI rebuild.',
  payload,
  result,
  cpuBound: true,
  // Reads and rewrites health across the inventory.
  startScope: 'admin',
  defaults: { maxAttempts: 3, backoff: { baseMs: 5_000, maxMs: 300_000 }, leaseSeconds: 60 },
});
